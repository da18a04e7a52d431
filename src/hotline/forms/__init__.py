"""The form catalogue: the typed bodies that envelopes carry, validated on send and on receipt,
and rendered in English and Russian from one set of gettext catalogues.
"""

from hotline.forms.catalogue import FORMS, FieldDoc, FormSpec, describe, prepare_body, validate_body
from hotline.forms.i18n import SUPPORTED_LANGUAGES, translations
from hotline.forms.pre_agreed import PRE_AGREED, PreAgreedText
from hotline.forms.render import Rendering, precedence_name, render
from hotline.forms.schemas import FormBody

__all__ = [
    "FORMS",
    "PRE_AGREED",
    "SUPPORTED_LANGUAGES",
    "FieldDoc",
    "FormBody",
    "FormSpec",
    "PreAgreedText",
    "Rendering",
    "describe",
    "precedence_name",
    "prepare_body",
    "render",
    "translations",
    "validate_body",
]
