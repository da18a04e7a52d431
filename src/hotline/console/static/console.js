// The hotline console's script. Every page works without it; it only
//  - redraws the live parts of a page when the node's event stream says they changed,
//  - keeps deadlines counting down,
//  - sounds and shows the FLASH alarm until the message is acknowledged (signed out too),
//  - shows only the chosen shape of an area on the compose page.
(() => {
  "use strict";
  const root = document.documentElement;
  const body = document.body;
  let offset = 0; // the node's clock minus this browser's, from the last page or fragment

  const pad = (n) => String(n).padStart(2, "0");
  function span(ms) {
    const s = Math.floor(Math.abs(ms) / 1000);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return h ? `${h}:${pad(m)}:${pad(sec)}` : `${pad(m)}:${pad(sec)}`;
  }
  function syncClock(scope) {
    const marked = scope.querySelector("[data-now]");
    if (marked) offset = Number(marked.dataset.now) - Date.now();
  }
  function tick() {
    const now = Date.now() + offset;
    for (const el of document.querySelectorAll(".countdown[data-due]")) {
      const left = Number(el.dataset.due) - now;
      const words = left >= 0 ? body.dataset.left : body.dataset.overdue;
      el.textContent = words.replace("{time}", span(left));
      el.classList.toggle("overdue", left < 0);
    }
  }

  // -- the alarm: a FLASH awaiting acknowledgement, wherever the operator is -------------------
  // Heard (a tone every 1.5 s), seen (the banner alternates twice a second at most, well under
  // the three flashes a second that can bring on a seizure; none if the reader asked for less
  // motion), in the tab's title and icon (a watch officer on another tab sees it), as a
  // browser notification where the officer allowed them, and said once by a screen reader.
  const soundButton = document.getElementById("sound");
  const quietTitle = document.title;
  const icon = document.querySelector("link[rel=icon]");
  const quietIcon = icon ? icon.getAttribute("href") : null;
  const announcer = document.getElementById("announcer");
  let audio = null;
  let beeping = null;
  let titling = null;
  let known = new Set(); // the FLASH serials and alarm keys already announced
  function beep() {
    try {
      audio = audio || new AudioContext();
    } catch (e) {
      root.dataset.sound = "unavailable";
      return;
    }
    if (audio.state !== "running") {
      audio.resume().catch(() => {});
      // Browsers keep sound off until a person has used the page: ask for the one click.
      root.dataset.sound = "blocked";
      if (soundButton) soundButton.hidden = false;
      return;
    }
    if (soundButton && !wantsPermission()) soundButton.hidden = true;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "square";
    gain.gain.value = 0.15;
    osc.connect(gain).connect(audio.destination);
    const t = audio.currentTime;
    osc.frequency.setValueAtTime(880, t);
    osc.frequency.setValueAtTime(660, t + 0.25);
    osc.start(t);
    osc.stop(t + 0.5);
    root.dataset.sound = "on";
  }
  function wantsPermission() {
    return "Notification" in window && Notification.permission === "default";
  }
  function notify(fresh) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      // One notification, replaced (same tag) rather than piled up, that stays until seen.
      new Notification(body.dataset.flashTitle, {
        body: `${body.dataset.flashNotice}\n${fresh.join(" · ")}`,
        tag: "hotline-flash",
        requireInteraction: true,
        icon: "/static/favicon-alarm.svg",
      });
    } catch (e) {
      // some browsers allow notifications only from a service worker: the rest still alarms
    }
  }
  function announce() {
    // What is new since the last look: each FLASH serial and channel alarm said once.
    const now = new Set();
    const fresh = [];
    for (const el of document.querySelectorAll("[data-alarm] [data-serial], [data-alarm-key]")) {
      const key = el.dataset.serial || el.dataset.alarmKey;
      now.add(key);
      if (!known.has(key)) fresh.push(el.textContent.replace(/\s+/g, " ").trim());
    }
    const flash = document.querySelector("[data-alarm]");
    if (flash && !flash.querySelector("[data-serial]")) {
      // The signed-out board names no serial: its heading is what is new, while it changes.
      const key = "signed-out " + flash.dataset.alarm;
      now.add(key);
      if (!known.has(key)) fresh.push(flash.textContent.replace(/\s+/g, " ").trim());
    }
    known = now;
    if (fresh.length && announcer) {
      announcer.textContent = fresh.join(". ");
      if (flash) notify(fresh);
    }
  }
  function alarm() {
    const on = document.querySelector("[data-alarm]") !== null;
    root.classList.toggle("alarming", on);
    announce();
    if (on && beeping === null) {
      beep();
      beeping = setInterval(beep, 1500);
      if (icon) icon.setAttribute("href", "/static/favicon-alarm.svg");
      let shown = false;
      const flip = () => {
        shown = !shown;
        document.title = shown ? `\u26a0 ${body.dataset.flashTitle} \u26a0` : quietTitle;
      };
      flip();
      titling = setInterval(flip, 1000);
      if (soundButton && wantsPermission()) soundButton.hidden = false;
    } else if (!on && beeping !== null) {
      clearInterval(beeping);
      clearInterval(titling);
      beeping = titling = null;
      document.title = quietTitle;
      if (icon && quietIcon) icon.setAttribute("href", quietIcon);
      root.dataset.sound = "off";
      if (soundButton) soundButton.hidden = true;
    }
  }
  if (soundButton) {
    soundButton.addEventListener("click", () => {
      audio = audio || new AudioContext();
      audio.resume().then(() => { beep(); });
      if (wantsPermission()) {
        Notification.requestPermission().then(() => { soundButton.hidden = root.dataset.sound === "on"; });
      } else {
        soundButton.hidden = true;
      }
    });
  }

  // -- live regions ---------------------------------------------------------------------------
  const regions = [...document.querySelectorAll("[data-live]")];
  const busy = new Map();
  function signIn() {
    location.assign("/signin?next=" + encodeURIComponent(location.pathname + location.search));
  }
  function replace(region, html) {
    // Keep the operator's place: the focused link or button keeps focus across a redraw.
    const active = document.activeElement;
    const key = active && region.contains(active) ? active.getAttribute("href") || active.id : null;
    const template = document.createElement("template");
    template.innerHTML = html; // rendered and escaped by the node; nothing in it runs
    region.replaceChildren(template.content);
    if (key) {
      const same = region.querySelector(`[href="${CSS.escape(key)}"]`) || document.getElementById(key);
      if (same) same.focus();
    }
    syncClock(region);
    tick();
    alarm();
  }
  async function refresh(region) {
    if (busy.get(region)) {
      busy.set(region, "again"); // one more redraw after this one, for what changed meanwhile
      return;
    }
    busy.set(region, "busy");
    try {
      do {
        busy.set(region, "busy");
        const response = await fetch(region.dataset.live, { credentials: "same-origin" });
        if (response.status === 401) return signIn();
        if (!response.ok) return;
        replace(region, await response.text());
      } while (busy.get(region) === "again");
    } catch (e) {
      // the node is restarting or the network is down: the stream reconnects and redraws
    } finally {
      busy.delete(region);
    }
  }
  function connect() {
    const source = new EventSource("/events");
    source.onmessage = (event) => {
      const topics = JSON.parse(event.data);
      for (const region of regions) {
        if (region.dataset.topics.split(" ").some((t) => topics.includes(t))) refresh(region);
      }
    };
    // Connected, or connected again: redraw, for whatever changed while no stream was open.
    source.onopen = () => {
      root.dataset.stream = "open";
      regions.forEach(refresh);
    };
    // Lost: the page says so (a banner) and keeps trying; a browser that gave up on the stream
    // (a proxy's error page, say) gets a new one, so a board never freezes silently.
    source.onerror = () => {
      root.dataset.stream = "lost";
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
    };
    source.addEventListener("signed-out", () => { source.close(); signIn(); });
  }
  if (regions.length) connect();

  // -- signed out: no event stream, so the sign-in page asks whether a FLASH waits ------------
  for (const region of document.querySelectorAll("[data-poll]")) {
    const poll = async () => {
      try {
        const response = await fetch(region.dataset.poll, { credentials: "same-origin" });
        if (response.ok) replace(region, await response.text());
      } catch (e) {
        // the node is restarting: ask again at the next turn
      }
    };
    setInterval(poll, 2000);
  }

  // -- the compose page: show the chosen shape of each area -----------------------------------
  for (const area of document.querySelectorAll("[data-area]")) {
    const show = () => {
      const chosen = area.querySelector("input[type=radio]:checked");
      for (const part of area.querySelectorAll("[data-shape]")) {
        part.hidden = chosen !== null && part.dataset.shape !== chosen.value;
      }
    };
    area.addEventListener("change", show);
    show();
  }
  // Choosing a form shows its fields at once (the node draws them): no extra button to press.
  const kind = document.getElementById("f-kind");
  const showFields = document.getElementById("show-fields");
  if (kind && showFields) {
    showFields.hidden = true;
    kind.addEventListener("change", () => kind.form.requestSubmit(showFields));
  }
  // After a round trip to the node, the operator's eyes go where the answer is: the first
  // field in error, or else the preview (far below the fields on a 720-line screen).
  const invalid = document.querySelector("[aria-invalid=true]");
  const preview = document.querySelector(".preview");
  if (invalid) invalid.focus();
  else if (preview) preview.scrollIntoView({ block: "start" });

  syncClock(document);
  tick();
  alarm();
  setInterval(tick, 1000);
})();
