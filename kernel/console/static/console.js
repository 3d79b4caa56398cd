// WebOS console: theme, sidebar, CSRF for htmx, the command palette and the live event view.
// Plain script, no build step. htmx (vendored next to this file) does the fragment loading.
(function () {
  "use strict";

  function cookie(name) {
    const found = document.cookie.split("; ").find((part) => part.startsWith(name + "="));
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }
  const csrfHeaders = () => ({ "X-CSRF-Token": cookie("webos_csrf") });

  function toast(text, kind) {
    const box = document.getElementById("toast");
    if (!box) return;
    box.textContent = text;
    box.className = "toast " + (kind || "");
    box.hidden = false;
    clearTimeout(box._timer);
    box._timer = setTimeout(() => { box.hidden = true; }, 5000);
  }

  // -- htmx: CSRF header on state-changing requests, readable errors, expired sessions --------
  document.addEventListener("htmx:configRequest", (event) => {
    if (event.detail.verb !== "get") Object.assign(event.detail.headers, csrfHeaders());
  });
  document.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    if (xhr.status === 401) { window.location = "/console/login?next=" + encodeURIComponent(location.pathname + location.search); return; }
    let detail = xhr.statusText;
    try { detail = JSON.parse(xhr.responseText).detail || detail; } catch (_) {
      const text = (xhr.responseText || "").replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
      if (text) detail = text.slice(0, 200);
    }
    const target = event.detail.target;
    if (target && target.classList.contains("fragment")) {
      target.innerHTML = "";
      const p = document.createElement("p");
      p.className = "alert error"; p.setAttribute("role", "alert");
      p.textContent = "Could not load (" + xhr.status + "): " + detail;
      target.appendChild(p);
    } else {
      toast("Error " + xhr.status + ": " + detail, "error");
    }
  });
  document.addEventListener("htmx:sendError", () => toast("The gateway cannot be reached.", "error"));

  // -- theme and sidebar ---------------------------------------------------------------------
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action]");
    if (!button) return;
    if (button.dataset.action === "toggle-theme") {
      const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
      document.documentElement.dataset.theme = next;
      localStorage.setItem("webos-theme", next);
    } else if (button.dataset.action === "toggle-sidebar") {
      const open = document.body.classList.toggle("sidebar-open");
      button.setAttribute("aria-expanded", String(open));
    }
  });

  // -- command palette -----------------------------------------------------------------------
  const dataNode = document.getElementById("palette-data");
  const entries = dataNode ? JSON.parse(dataNode.textContent) : [];
  const dialog = document.getElementById("palette");
  const input = document.getElementById("palette-input");
  const list = document.getElementById("palette-list");
  let shown = [];
  let chosen = 0;

  // Subsequence match: consecutive letters and word starts score higher; -1 when no match.
  function fuzzy(query, text) {
    query = query.toLowerCase(); text = text.toLowerCase();
    if (!query) return 0;
    let score = 0, at = 0, run = 0;
    for (const ch of query) {
      const found = text.indexOf(ch, at);
      if (found < 0) return -1;
      run = found === at ? run + 1 : 0;
      score += 1 + run * 2 + (found === 0 || " ./-_".includes(text[found - 1]) ? 3 : 0);
      at = found + 1;
    }
    return score - text.length * 0.01;
  }

  function render() {
    const query = input.value.trim();
    shown = entries
      .map((entry) => ({ entry, score: Math.max(fuzzy(query, entry.title) * 2, fuzzy(query, entry.title + " " + (entry.hint || ""))) }))
      .filter((item) => item.score >= 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, 20)
      .map((item) => item.entry);
    chosen = Math.min(chosen, Math.max(shown.length - 1, 0));
    list.innerHTML = "";
    shown.forEach((entry, index) => {
      const li = document.createElement("li");
      li.id = "palette-option-" + index;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", String(index === chosen));
      const title = document.createElement("span"); title.className = "title"; title.textContent = entry.title;
      const kind = document.createElement("span"); kind.className = "kind"; kind.textContent = entry.kind;
      const hint = document.createElement("span"); hint.className = "hint"; hint.textContent = entry.hint || "";
      li.append(kind, title, hint);
      li.addEventListener("click", () => { chosen = index; activate(); });
      list.appendChild(li);
    });
    if (!shown.length) {
      const li = document.createElement("li"); li.className = "none"; li.textContent = "Nothing matches."; list.appendChild(li);
    }
    input.setAttribute("aria-activedescendant", shown.length ? "palette-option-" + chosen : "");
  }

  // Entries modules compute per request (PaletteSource): fetched once, when first opened.
  let sourced = false;
  function loadSources() {
    if (sourced) return;
    sourced = true;
    (dialog.dataset.sources || "").split(" ").filter(Boolean).forEach((url) => {
      fetch(url, { credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : []))
        .then((found) => {
          found.filter((e) => typeof e.href === "string" && /^\/console(\/|\?|$)/.test(e.href))
            .forEach((e) => entries.push({ kind: "command", title: String(e.title), href: e.href, hint: String(e.hint || "") }));
          if (dialog.open) render();
        })
        .catch(() => toast("Some palette entries could not be loaded.", "error"));
    });
  }

  function openPalette(query) {
    if (!dialog) return;
    loadSources();
    input.value = query || "";
    chosen = 0;
    render();
    if (!dialog.open) dialog.showModal();
    input.focus();
  }

  async function activate() {
    const entry = shown[chosen];
    if (!entry) return;
    if (entry.href) { dialog.close(); window.location = entry.href; return; }
    if (entry.confirm && !window.confirm(entry.confirm)) return;
    dialog.close();
    try {
      const response = await fetch(entry.run, { method: "POST", headers: csrfHeaders(), credentials: "same-origin" });
      let text = response.statusText;
      try { const body = await response.json(); text = body.detail || body.message || JSON.stringify(body); } catch (_) { /* not JSON */ }
      toast((response.ok ? "✓ " : "✗ ") + entry.title + ": " + text, response.ok ? "ok" : "error");
    } catch (error) {
      toast("✗ " + entry.title + ": " + error, "error");
    }
  }

  if (dialog) {
    input.addEventListener("input", () => { chosen = 0; render(); });
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") { chosen = Math.min(chosen + 1, shown.length - 1); render(); event.preventDefault(); }
      else if (event.key === "ArrowUp") { chosen = Math.max(chosen - 1, 0); render(); event.preventDefault(); }
      else if (event.key === "Enter") { event.preventDefault(); activate(); }
    });
    dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });
    document.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
        event.preventDefault();
        dialog.open ? dialog.close() : openPalette("");
      }
    });
    const search = document.getElementById("header-search");
    if (search) {
      search.addEventListener("focus", () => { const q = search.value; search.value = ""; search.blur(); openPalette(q); });
      search.addEventListener("keydown", (event) => { if (event.key.length === 1) { event.preventDefault(); openPalette(event.key); } });
    }
  }

  // -- live events ---------------------------------------------------------------------------
  const eventsList = document.getElementById("events");
  if (eventsList) {
    const form = document.getElementById("events-form");
    const status = document.getElementById("events-status");
    const pause = document.getElementById("events-pause");
    const empty = document.getElementById("events-empty");
    const subject = document.getElementById("subject");
    const internal = document.getElementById("events-internal");
    let source = null, paused = false, held = [];
    const LIMIT = 300;

    function row(event) {
      const li = document.createElement("li");
      li.className = "event";
      li.dataset.subject = event.subject;
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      const time = new Date(event.received * 1000).toLocaleTimeString();
      const code = document.createElement("code"); code.textContent = event.subject;
      const meta = document.createElement("span"); meta.className = "muted";
      meta.textContent = " " + time + " · " + event.size + " bytes" + (event.headers["webos-source"] ? " · from " + event.headers["webos-source"] : "");
      summary.append(code, meta);
      const payload = document.createElement("pre"); payload.textContent = JSON.stringify(event.payload, null, 2);
      const headers = document.createElement("pre"); headers.textContent = JSON.stringify(event.headers, null, 2);
      const h1 = document.createElement("h4"); h1.textContent = "Payload";
      const h2 = document.createElement("h4"); h2.textContent = "Headers";
      details.append(summary, h1, payload, h2, headers);
      li.appendChild(details);
      return li;
    }
    function show(event) {
      empty.hidden = true;
      eventsList.prepend(row(event));
      while (eventsList.children.length > LIMIT) eventsList.lastChild.remove();
    }
    function connect() {
      if (source) source.close();
      const wanted = subject.value.trim() || ">";
      const query = "?subject=" + encodeURIComponent(wanted) + (internal.checked ? "&internal=true" : "");
      history.replaceState(null, "", query);
      source = new EventSource("/console/events/stream" + query);
      status.textContent = "Connecting…";
      source.addEventListener("ready", () => { status.textContent = paused ? "Paused" : "Live: " + wanted; status.dataset.state = "live"; });
      source.addEventListener("bus", (message) => {
        const event = JSON.parse(message.data);
        if (paused) { held.push(event); status.textContent = "Paused (" + held.length + " waiting)"; } else show(event);
      });
      source.addEventListener("dropped", (message) => toast(message.data + " events dropped: the view could not keep up", "error"));
      source.onerror = () => { status.textContent = "Disconnected: retrying…"; status.dataset.state = "error"; };
    }
    form.addEventListener("submit", (event) => { event.preventDefault(); connect(); });
    internal.addEventListener("change", connect);
    pause.addEventListener("click", () => {
      paused = !paused;
      pause.textContent = paused ? "Resume" : "Pause";
      pause.setAttribute("aria-pressed", String(paused));
      if (!paused) { held.forEach(show); held = []; status.textContent = "Live: " + (subject.value.trim() || ">"); }
      else status.textContent = "Paused";
    });
    document.getElementById("events-clear").addEventListener("click", () => { eventsList.innerHTML = ""; empty.hidden = false; });
    window.addEventListener("pagehide", () => source && source.close());
    connect();
  }
})();
