"""The form catalogue: the typed bodies that envelopes carry, validated on send and on receipt."""

from hotline.forms.catalogue import FORMS, FormSpec, validate_body

__all__ = ["FORMS", "FormSpec", "validate_body"]
