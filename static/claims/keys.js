// claimdesk keyboard module: shortcuts and span selection on the annotate page, and a
// persistent message with a retry for every failed htmx request, on every page.
// No inline scripts and no eval, so a strict Content Security Policy can stay on.
(function () {
  "use strict";

  const typing = (el) =>
    el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName)) &&
    !(el.tagName === "INPUT" && ["radio", "checkbox", "button", "submit"].includes(el.type));

  // --- Failed requests -------------------------------------------------------------------
  // A network error, or a 4xx/5xx other than the 409/422 that carry a form, swaps nothing in
  // (see htmx-config in _base.html): the form keeps its values, and #request-failure says
  // "Not saved" with the server's sentence ([data-error-message]) until a retry (r) succeeds.
  const CSRF_REFRESH = "X-CSRF-Refresh"; // claims/views_errors.py
  let failed = null; // {elt, verb, path, target} of the request to retry
  let renewedOnce = false;

  const sameOrigin = (url) => {
    try {
      return new URL(url, window.location.href).origin === window.location.origin;
    } catch {
      return false;
    }
  };

  function kbd(key) {
    const element = document.createElement("kbd");
    element.textContent = key;
    return element;
  }

  // The server's sentence, rebuilt from its text and same-origin links only.
  function serverMessage(xhr) {
    const type = (xhr && xhr.getResponseHeader("Content-Type")) || "";
    if (!xhr.responseText || !type.startsWith("text/html")) return null;
    const source = new DOMParser()
      .parseFromString(xhr.responseText, "text/html")
      .querySelector("[data-error-message]");
    if (!source) return null;
    const out = document.createDocumentFragment();
    (function copy(node) {
      node.childNodes.forEach((child) => {
        if (child.nodeType === Node.TEXT_NODE) out.append(child.textContent);
        else if (child.nodeName === "A" && sameOrigin(child.getAttribute("href"))) {
          const link = document.createElement("a");
          link.href = new URL(child.getAttribute("href"), window.location.href).href;
          link.target = "_blank"; // keep this page and its unsaved form
          link.rel = "noopener";
          link.textContent = child.textContent;
          out.append(link);
        } else if (child.nodeType === Node.ELEMENT_NODE) copy(child);
      });
    })(source);
    return out;
  }

  function fallbackMessage(status, verb) {
    const kept = verb === "get" ? "" : " Your changes are still in the form.";
    if (!status) return "The server could not be reached (network error)." + kept;
    if (status >= 500) return "The server had a problem (error " + status + ")." + kept;
    return "The server refused the request (error " + status + ")." + kept;
  }

  function showFailure(detail) {
    const box = document.getElementById("request-failure");
    const xhr = detail.xhr;
    const status = xhr ? xhr.status : 0;
    const verb = ((detail.requestConfig && detail.requestConfig.verb) || "get").toLowerCase();
    // A failed save stays what is shown and what r retries until it succeeds: a load that
    // fails meanwhile (a search, say) must not hide that the label was not saved.
    if (verb === "get" && failed && failed.verb !== "get" && failed.elt && failed.elt.isConnected) {
      return;
    }
    failed = { elt: detail.elt, verb, path: detail.requestConfig && detail.requestConfig.path,
      target: detail.target };
    if (!box) return;
    const text = document.createElement("p");
    const title = document.createElement("strong");
    title.textContent = verb === "get" ? "Could not load." : "Not saved.";
    text.append(title, " ", (xhr && serverMessage(xhr)) || fallbackMessage(status, verb));
    const button = document.createElement("button");
    button.type = "button";
    button.className = "primary";
    button.dataset.retry = "";
    button.append("Retry ", kbd("r"));
    box.replaceChildren(text, button);
  }

  function clearFailure() {
    failed = null;
    document.getElementById("request-failure")?.replaceChildren();
  }

  // The same request again, from the same element: a form sends its current values.
  function retry() {
    const f = failed;
    if (!f || !window.htmx || !f.path) return;
    if (!f.elt || !f.elt.isConnected) return clearFailure(); // the page has moved on
    const target = f.target && f.target.isConnected ? f.target : undefined;
    window.htmx.ajax(f.verb, f.path, { source: f.elt, target });
  }

  // After a login in another tab (Django rotates the CSRF token at login), the page's token
  // is stale. The CSRF failure of an htmx request hands back the current one: use it, but
  // only from a same-origin response, and only in this page's own headers and forms.
  function renewToken(token) {
    let headers = {};
    try {
      headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    } catch {
      headers = {};
    }
    headers["X-CSRFToken"] = token;
    document.body.setAttribute("hx-headers", JSON.stringify(headers));
    document.querySelectorAll('input[name="csrfmiddlewaretoken"]').forEach((input) => {
      input.value = token;
    });
  }

  document.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    const token = xhr.status === 403 && sameOrigin(xhr.responseURL || "") &&
      xhr.getResponseHeader(CSRF_REFRESH);
    showFailure(event.detail);
    if (token && /^[A-Za-z0-9]{32,128}$/.test(token)) {
      renewToken(token);
      if (!renewedOnce) {
        renewedOnce = true; // once: a second 403 in a row is shown, not retried in a loop
        retry();
      }
    } else renewedOnce = false;
  });
  document.addEventListener("htmx:sendError", (event) => showFailure(event.detail));
  document.addEventListener("htmx:afterRequest", (event) => {
    const detail = event.detail;
    if (!detail.successful) return;
    renewedOnce = false;
    const verb = ((detail.requestConfig && detail.requestConfig.verb) || "get").toLowerCase();
    if (!failed || (failed.verb !== "get" && verb === "get")) return; // a load is no retried save
    if (detail.elt === failed.elt || detail.target === failed.target) clearFailure();
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-retry]")) retry();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "r" || !failed || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    event.preventDefault();
    retry();
  });

  // --- Review pages: 1-9 accept an annotator's label, e corrects, b sends back, j next ----
  // Looked up on each key: the page is boosted, so its content is replaced after each action.
  if (document.querySelector("[data-review]")) {
    document.addEventListener("keydown", (event) => {
      const review = document.querySelector("[data-review]");
      if (!review) return;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "Escape" && typing(document.activeElement)) {
        document.activeElement.blur();
        return;
      }
      if (typing(event.target)) return;
      const key = event.key;
      let handled = true;
      if (/^[1-9]$/.test(key)) {
        const card = review.querySelector('[data-accept-key="' + key + '"]');
        if (card) card.requestSubmit(); else handled = false;
      } else if (key === "e") review.querySelector("#gold-form input, #gold-form select")?.focus();
      else if (key === "b") review.querySelector("#send-back-form textarea")?.focus();
      else if (key === "j") review.querySelector("[data-key-next]")?.click();
      else if (key === "k") review.querySelector("[data-key-back]")?.click();
      else handled = false;
      if (handled) event.preventDefault();
    });

    // A correction or a send-back comment being written is not dropped by moving on (j, k, a
    // link, accepting another label) without a word: the browser asks first.
    const drafts = () => Array.from(document.querySelectorAll("#gold-form, #send-back-form"));
    const written = new WeakMap();
    const serialize = (f) => {
      const data = new FormData(f);
      data.delete("csrfmiddlewaretoken");
      return new URLSearchParams(data).toString();
    };
    const remember = () => drafts().forEach((f) => written.set(f, serialize(f)));
    remember();
    document.body.addEventListener("htmx:afterSettle", remember);
    document.body.addEventListener("htmx:confirm", (event) => {
      const unsaved = drafts().filter((f) => f !== event.detail.elt && written.get(f) !== serialize(f));
      if (!unsaved.length || !document.querySelector("[data-review]")) return;
      event.preventDefault();
      if (window.confirm("Your correction or comment is not saved. Leave it and go on?")) {
        event.detail.issueRequest(true);
      }
    });
  }

  const workspace = document.querySelector(".workspace");
  if (!workspace) return;
  document.documentElement.classList.add("js"); // shows the controls that need this module

  const editor = () => document.getElementById("editor");
  const form = () => document.getElementById("label-form");
  const rows = () => Array.from(document.querySelectorAll(".sentence.kind-sentence"));

  function markCurrent() {
    const id = editor() && editor().dataset.sentence;
    rows().forEach((row) => row.classList.toggle("current", row.dataset.sentence === id));
    const current = id && document.getElementById("s-" + id);
    if (current) current.scrollIntoView({ block: "nearest", behavior: "smooth" });
    if (id !== cursorSentence) resetCursor(id);
    refreshClaims();
  }

  function go(step) {
    const all = rows();
    const index = all.findIndex((row) => row.classList.contains("current"));
    const target = all[Math.min(all.length - 1, Math.max(0, index + step))];
    if (target && target !== all[index]) target.querySelector("a.pos").click();
  }

  function check(selector, within) {
    const input = (within || form()) && (within || form()).querySelector(selector);
    if (input) {
      input.checked = true;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  function cycleAttribution() {
    const select = currentBox()?.querySelector("[data-attribution-select]");
    if (select) select.selectedIndex = (select.selectedIndex + 1) % select.options.length;
  }

  // Non-claims carry no source or status: dim those fields so the state is visible.
  function syncClaimFields() {
    const f = form();
    if (!f) return;
    const notClaim = f.querySelector('input[name="is_claim"][value="no"]');
    f.classList.toggle("not-claim", Boolean(notClaim && notClaim.checked));
    paint();
  }

  function toggleShortcuts() {
    const dialog = document.getElementById("shortcuts");
    if (dialog.open) dialog.close();
    else dialog.showModal();
  }

  // Unsaved changes: the form differs from what the server rendered, or the server refused
  // it (422, rendered with the refused values). Moving to another sentence saves them first
  // and moves only if the save succeeds; proposing a source carries them across; leaving the
  // page asks.
  let baseline = null;
  let baselineEditor = null;
  let refused = false;
  let pendingMove = null; // the sentence to open once the save of unsaved changes succeeded
  let carry = null; // the label form's values across a source proposal

  const fields = (f) => {
    const data = new FormData(f);
    data.delete("csrfmiddlewaretoken"); // renewed after a new login, not a change
    return new URLSearchParams(data).toString();
  };
  const dirty = () => Boolean(form()) && (refused || fields(form()) !== baseline);

  function takeBaseline() {
    if (editor() === baselineEditor) return;
    baselineEditor = editor();
    baseline = form() ? fields(form()) : null;
  }

  // The form's values again, with as many claims as they hold (claims added since are
  // dropped, claims added then are added back). A proposed source goes to the claim it was
  // proposed for.
  function restore(values, proposed, claimIndex) {
    const f = form();
    const wanted = Number(values.get(PREFIX + "-TOTAL_FORMS") || boxes().length);
    boxes().slice(wanted).forEach((box) => box.remove());
    while (boxes().length < wanted && addClaim(true));
    const keep = ["csrfmiddlewaretoken", "version"];
    Array.from(f.elements).forEach((input) => {
      if (!input.name || keep.includes(input.name)) return;
      const wanted = values.getAll(input.name);
      if (input.type === "radio" || input.type === "checkbox") input.checked = wanted.includes(input.value);
      else if (wanted.length) input.value = wanted[0];
    });
    const box = boxes()[claimIndex] || currentBox();
    if (box) setCurrent(box);
    if (proposed && box) box.querySelector("[data-source-input]").value = proposed;
    refreshClaims();
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest(".sentence a.pos");
    if (!link || !dirty()) return;
    event.preventDefault();
    event.stopImmediatePropagation(); // htmx must not fetch the other sentence over the changes
    const id = link.closest(".sentence").dataset.sentence;
    if (busy || id === editor().dataset.sentence) return;
    pendingMove = id;
    submit();
  }, true);

  window.addEventListener("beforeunload", (event) => {
    if (dirty()) event.preventDefault();
  });

  // Undo (u) with unsaved changes takes those back first, as an editor's undo would; the next u
  // undoes the last saved change.
  document.addEventListener("submit", (event) => {
    if (event.target.id !== "undo-form" || !form() || fields(form()) === baseline) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    restore(new URLSearchParams(baseline), null, 0);
  }, true);

  // Keys pressed while a save or a move is in flight belong to the next sentence: hold them
  // until its editor has been swapped in and processed, then replay them in order. If the
  // request fails, or the server answers with the same form again (409, 422), they are
  // dropped: replayed, they would label whatever sentence comes next.
  let busy = false;
  const held = [];
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.target && event.detail.target.id === "editor") busy = true;
    if (event.detail.elt.closest && event.detail.elt.closest("details.propose") && form()) {
      carry = {
        sentence: editor().dataset.sentence,
        values: new URLSearchParams(new FormData(form())),
        proposed: event.detail.elt.querySelector('[name="propose-name"]')?.value.trim(),
        claim: boxes().indexOf(currentBox()),
      };
    }
  });
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id !== "editor" && event.detail.elt.id !== "editor") return;
    refused = false;
    takeBaseline();
    const back = carry;
    carry = null;
    if (back && form() && editor().dataset.sentence === back.sentence) {
      restore(back.values, event.detail.xhr.status < 300 ? back.proposed : null, back.claim);
    }
  });
  document.body.addEventListener("htmx:afterSettle", (event) => {
    if (event.target.id !== "editor") return; // out-of-band rows settle too; wait for the editor
    busy = false;
    if (pendingMove) {
      const id = pendingMove;
      pendingMove = null;
      if (editor().dataset.sentence !== id) document.querySelector("#s-" + id + " a.pos")?.click();
    }
    // An Enter held before any other key would save a sentence its annotator never saw (a
    // double Enter): only keys typed for this sentence first make a held Enter count.
    let looked = false;
    while (held.length && !busy) {
      const key = held.shift();
      if (key.key === "Enter" && !looked) continue;
      looked = true;
      handle(key);
    }
  });
  document.body.addEventListener("htmx:afterRequest", (event) => {
    const { successful, xhr, target } = event.detail;
    if (!successful) {
      busy = busy && !(target && target.id === "editor"); // nothing will be swapped in
      carry = null;
    }
    if (target && target.id === "editor" && (!successful || xhr.status >= 300)) {
      held.length = 0;
      pendingMove = null;
      if (xhr.status === 422) refused = true;
    }
  });

  function submit() {
    const f = form();
    if (!f) return;
    if (window.htmx) window.htmx.process(f); // a just-swapped form may not be wired up yet
    f.requestSubmit();
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && typing(document.activeElement)) {
      document.activeElement.blur();
      return;
    }
    if (typing(event.target)) return; // never steal keys while the user types
    if (busy) {
      if (SHORTCUTS.test(event.key)) {
        held.push({ key: event.key, target: event.target, shift: event.shiftKey });
        event.preventDefault();
      }
      return;
    }
    if (handle({ key: event.key, target: event.target, shift: event.shiftKey })) {
      event.preventDefault();
    }
  });

  const SHORTCUTS =
    /^([jkcnsau?1-9xvmhlHLA+[\]]|Enter|ArrowUp|ArrowDown|ArrowLeft|ArrowRight|Delete|Backspace)$/;

  function handle({ key, target, shift }) {
    let handled = true;
    if (key === "j" || key === "ArrowDown") go(1);
    else if (key === "k" || key === "ArrowUp") go(-1);
    else if (key === "c") check('input[name="is_claim"][value="yes"]');
    else if (key === "n") check('input[name="is_claim"][value="no"]');
    else if (/^[1-9]$/.test(key)) {
      check('input[name="is_claim"][value="yes"]');
      check('input[name$="-status"][data-key="' + key + '"]', currentBox());
    } else if (key === "s") {
      const input = currentBox()?.querySelector("[data-source-input]");
      input?.focus();
      input?.select(); // typing replaces the suggested source
    }
    else if (key === "a") cycleAttribution();
    else if (key === "ArrowLeft" || key === "h") moveCursor(-1, shift);
    else if (key === "ArrowRight" || key === "l") moveCursor(1, shift);
    else if (key === "H") moveCursor(-1, true);
    else if (key === "L") moveCursor(1, true);
    else if (ROLE_KEYS[key]) assign(ROLE_KEYS[key]);
    else if (key === "+" || key === "A") addClaim(false);
    else if (key === "]") cycleClaims(1);
    else if (key === "[") cycleClaims(-1);
    else if (key === "Delete" || key === "Backspace") toggleDeleted(currentBox());
    else if (key === "Escape") {
      dropSelection();
      handled = false; // Escape still closes the shortcut sheet
    }
    else if (key === "Enter" && form() && !target.closest("button, summary, a")) submit();
    else if (key === "u") document.getElementById("undo-form")?.requestSubmit();
    else if (key === "?") toggleShortcuts();
    else handled = false;
    return handled;
  }

  // Clicking a sentence's text opens it, unless the click ended a text selection.
  workspace.addEventListener("click", (event) => {
    const pick = event.target.closest("[data-source-pick]");
    if (pick) {
      const input = currentBox()?.querySelector("[data-source-input]");
      if (!input) return;
      input.value = pick.dataset.sourcePick;
      input.focus();
      return;
    }
    const box = event.target.closest("[data-claim-box]");
    if (box && box !== currentBox()) setCurrent(box);
    const clear = event.target.closest("[data-span-clear]");
    if (clear && box) return setSpanOf(box, clear.dataset.spanClear, null);
    const role = event.target.closest("[data-role]");
    if (role && box) {
      role.blur(); // Enter saves again, it does not press the button once more
      return assign(role.dataset.role);
    }
    if (event.target.closest("[data-claim-add]")) return addClaim(false);
    if (event.target.closest("[data-shortcuts-toggle]")) return toggleShortcuts();
    const text = event.target.closest(".sentence.kind-sentence .text");
    if (text && String(window.getSelection()).length === 0) {
      text.parentElement.querySelector("a.pos").click();
    }
  });

  // --- Claims and their spans ------------------------------------------------------------
  // A label holds claims (the formset "claims"); one is current: the status keys, s, a and
  // the role keys apply to it. Spans are offsets into the article body: each sentence row
  // carries data-start / data-end, and its .text holds exactly body[start:end].
  const PREFIX = "claims";
  const ROLES = ["content", "cue", "mention"];
  const ROLE_KEYS = { x: "content", v: "cue", m: "mention" };
  const boxes = () => Array.from(form()?.querySelectorAll("[data-claim-box]") || []);
  const currentBox = () => boxes().find((b) => b.classList.contains("current")) || boxes()[0];
  const field = (box, name) => box.querySelector('[name="' + box.dataset.prefix + "-" + name + '"]');

  function setCurrent(box) {
    boxes().forEach((b) => b.classList.toggle("current", b === box));
    paint();
  }

  function cycleClaims(step) {
    const all = boxes();
    if (all.length < 2) return;
    const next = all[(all.indexOf(currentBox()) + step + all.length) % all.length];
    setCurrent(next);
    next.scrollIntoView({ block: "nearest" });
  }

  function spanOf(box, role) {
    const start = field(box, role + "_start")?.value;
    const end = field(box, role + "_end")?.value;
    return start && end ? [Number(start), Number(end)] : null;
  }

  function setSpanOf(box, role, span) {
    field(box, role + "_start").value = span ? span[0] : "";
    field(box, role + "_end").value = span ? span[1] : "";
    showSpan(box, role);
    paint();
  }

  function showSpan(box, role) {
    const out = box.querySelector('[data-span-text="' + role + '"]');
    const span = spanOf(box, role);
    if (out) out.textContent = span ? bodyText(span[0], span[1]) || "—" : "—";
  }

  function toggleDeleted(box) {
    const input = box && box.querySelector("[data-claim-delete]");
    if (!input) return;
    input.checked = !input.checked;
    refreshClaims();
  }

  // A further claim, from the formset's empty form (<template id="claim-template">).
  function addClaim(quiet) {
    const f = form();
    const template = document.getElementById("claim-template");
    const total = f && f.querySelector('[name="' + PREFIX + '-TOTAL_FORMS"]');
    const max = Number(f?.querySelector('[name="' + PREFIX + '-MAX_NUM_FORMS"]')?.value || 20);
    if (!template || !total || Number(total.value) >= max) return false;
    const index = Number(total.value);
    const holder = document.createElement("template");
    holder.innerHTML = template.innerHTML.replaceAll("__prefix__", String(index)).trim();
    const box = holder.content.firstElementChild;
    f.querySelector("[data-claims]").append(box);
    total.value = index + 1;
    if (window.htmx) window.htmx.process(box); // its source search
    if (!quiet) {
      check('input[name="is_claim"][value="yes"]');
      setCurrent(box);
      box.scrollIntoView({ block: "nearest" });
    }
    refreshClaims();
    return true;
  }

  // Numbers, removed claims and span texts as the form holds them; then the highlights.
  function refreshClaims() {
    let number = 0;
    boxes().forEach((box) => {
      const deleted = Boolean(box.querySelector("[data-claim-delete]")?.checked);
      box.classList.toggle("deleted", deleted);
      const label = box.querySelector("[data-claim-number]");
      if (label) label.textContent = deleted ? "(removed)" : String(++number);
      ROLES.forEach((role) => showSpan(box, role));
    });
    syncClaimFields(); // and paint
  }

  // Mark the selection (the word cursor's, or the mouse's) as a role of the current claim.
  function assign(role) {
    const box = currentBox();
    const span = selectedSpan();
    if (!box || !span || box.classList.contains("deleted")) return;
    setSpanOf(box, role, span);
    check('input[name="is_claim"][value="yes"]');
  }

  // --- The text as body offsets ----------------------------------------------------------
  function textRows() {
    return rows().map((row) => {
      const text = row.querySelector(".text");
      return { row, text, start: Number(row.dataset.start), end: Number(row.dataset.end) };
    }).filter((r) => r.text && !Number.isNaN(r.start));
  }

  function bodyText(start, end) {
    return textRows()
      .filter((r) => r.start < end && r.end > start)
      .map((r) => r.text.textContent.slice(Math.max(start, r.start) - r.start, Math.min(end, r.end) - r.start))
      .join(" ");
  }

  function charAt(offset) {
    const r = textRows().find((x) => x.start <= offset && offset < x.end);
    return r ? r.text.textContent.charAt(offset - r.start) : " ";
  }

  // The body offset of a DOM position: inside a row's text exactly; elsewhere in a row (its
  // number, its chip) the row's start or end; between rows the start of the next row.
  function offsetOf(node, offset) {
    const all = textRows();
    const point = document.createRange();
    point.setStart(node, offset);
    for (const r of all) {
      if (r.text.contains(node)) {
        const before = document.createRange();
        before.selectNodeContents(r.text);
        before.setEnd(node, offset);
        return r.start + before.toString().length;
      }
      const whole = document.createRange();
      whole.selectNodeContents(r.text);
      if (point.compareBoundaryPoints(Range.START_TO_START, whole) <= 0) return r.start;
      if (r.row.contains(node)) return r.end;
    }
    return all.length ? all[all.length - 1].end : 0;
  }

  // A DOM position for a body offset (`atEnd`: the end of a span, so a row's own end).
  function positionOf(offset, atEnd) {
    const r = textRows().find((x) => (atEnd ? x.start < offset && offset <= x.end : x.start <= offset && offset < x.end));
    if (!r) return null;
    let left = offset - r.start;
    const walker = document.createTreeWalker(r.text, NodeFilter.SHOW_TEXT);
    let node = walker.nextNode();
    while (node) {
      const length = node.textContent.length;
      if (left < length || (atEnd && left === length)) return [node, left];
      left -= length;
      node = walker.nextNode();
    }
    return [r.text, r.text.childNodes.length];
  }

  // One range per row a span crosses (never over the numbers and chips between them).
  function rangesOf(start, end) {
    return textRows()
      .filter((r) => r.start < end && r.end > start)
      .map((r) => {
        const from = positionOf(Math.max(start, r.start), false);
        const to = positionOf(Math.min(end, r.end), true);
        if (!from || !to) return null;
        const range = document.createRange();
        range.setStart(from[0], from[1]);
        range.setEnd(to[0], to[1]);
        return range;
      })
      .filter(Boolean);
  }

  // The selected text in the article as body offsets, without the spaces at its edges.
  let lastSelection = null; // the mouse's last selection: a role button's click clears it
  function selectedSpan() {
    const selection = window.getSelection();
    const area = document.querySelector(".sentences");
    let span = null;
    if (selection && !selection.isCollapsed && area && selection.rangeCount) {
      const range = selection.getRangeAt(0);
      if (area.contains(range.commonAncestorContainer)) {
        span = [offsetOf(range.startContainer, range.startOffset), offsetOf(range.endContainer, range.endOffset)];
      }
    }
    if (!span) span = lastSelection;
    if (!span) return null;
    let [start, end] = span;
    while (start < end && /\s/.test(charAt(start))) start++;
    while (end > start && /\s/.test(charAt(end - 1))) end--;
    return end > start ? [start, end] : null;
  }
  document.addEventListener("selectionchange", () => {
    const selection = window.getSelection();
    const area = document.querySelector(".sentences");
    if (!selection || selection.isCollapsed || !area || !selection.rangeCount) return;
    const range = selection.getRangeAt(0);
    if (!area.contains(range.commonAncestorContainer)) return;
    lastSelection = [offsetOf(range.startContainer, range.startOffset), offsetOf(range.endContainer, range.endOffset)];
  });

  // --- The word cursor -------------------------------------------------------------------
  // Words of the article's sentences (letters and digits, with inner apostrophes, hyphens,
  // points and commas: "Russia's", "18-hour", "1,200"). The cursor starts on the first word of
  // the current sentence and may move into the sentences around it; Shift extends the
  // selection from where it started. The selection is the page's own, so it shows as one.
  const WORD = /[\p{L}\p{N}]+(?:['’.,\-][\p{L}\p{N}]+)*/gu;
  let cursor = null; // {anchor, focus}: indexes into words()
  let cursorSentence = null;

  function words() {
    const list = [];
    textRows().forEach((r) => {
      for (const match of r.text.textContent.matchAll(WORD)) {
        list.push({ start: r.start + match.index, end: r.start + match.index + match[0].length, row: r.row });
      }
    });
    return list;
  }

  function resetCursor(id) {
    cursorSentence = id;
    cursor = null;
    lastSelection = null;
    dropSelection();
  }

  function dropSelection() {
    cursor = null;
    const selection = window.getSelection();
    const area = document.querySelector(".sentences");
    if (selection && selection.rangeCount && area && area.contains(selection.anchorNode)) {
      selection.removeAllRanges();
    }
  }

  function moveCursor(step, extend) {
    const list = words();
    if (!list.length) return;
    if (!cursor) {
      const id = editor()?.dataset.sentence;
      let first = list.findIndex((w) => w.row.dataset.sentence === id);
      if (first < 0) first = 0;
      cursor = { anchor: first, focus: first };
      if (!extend) return showCursor(list);
    }
    cursor.focus = Math.min(list.length - 1, Math.max(0, cursor.focus + step));
    if (!extend) cursor.anchor = cursor.focus;
    showCursor(list);
  }

  function showCursor(list) {
    const a = list[Math.min(cursor.anchor, cursor.focus)];
    const b = list[Math.max(cursor.anchor, cursor.focus)];
    const from = positionOf(a.start, false);
    const to = positionOf(b.end, true);
    if (!from || !to) return;
    window.getSelection().setBaseAndExtent(from[0], from[1], to[0], to[1]);
    lastSelection = [a.start, b.end];
    list[cursor.focus].row.scrollIntoView({ block: "nearest" });
  }

  // --- Live highlights -------------------------------------------------------------------
  const savedSpans = {}; // sentence id -> [[role, start, end], ...] of labels saved here
  let saving = null;
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    const elt = event.detail.elt;
    if (elt.id === "undo-form") Object.keys(savedSpans).forEach((k) => delete savedSpans[k]);
    if (elt.id !== "label-form") return;
    const notClaim = elt.querySelector('input[name="is_claim"][value="no"]')?.checked;
    const spans = [];
    if (!notClaim) {
      boxes().filter((b) => !b.querySelector("[data-claim-delete]")?.checked).forEach((box) => {
        ROLES.forEach((role) => {
          const span = spanOf(box, role);
          if (span) spans.push([role, span[0], span[1]]);
        });
      });
    }
    saving = { form: elt, sentence: editor().dataset.sentence, spans };
  });
  document.body.addEventListener("htmx:afterRequest", (event) => {
    // The form has been swapped out by now: htmx tells its ancestor, with its request.
    const config = event.detail.requestConfig;
    if (!saving || !config || config.elt !== saving.form) return;
    if (event.detail.successful && event.detail.xhr.status === 200) {
      savedSpans[saving.sentence] = saving.spans;
    }
    saving = null;
    paint();
  });

  // The current claim's spans while it is edited, and the other claims' content, through the
  // CSS Custom Highlight API (no change to the text's DOM). The saved marks of the sentence
  // being edited step back meanwhile (.stale). Browsers without the API show the saved marks.
  function paint() {
    if (!window.CSS || !CSS.highlights || typeof Highlight === "undefined") return;
    const groups = { "claim-content": [], "claim-cue": [], "claim-mention": [], "other-claim": [],
      "saved-content": [], "saved-cue": [], "saved-mention": [] };
    const f = form();
    const notClaim = f && f.classList.contains("not-claim");
    const current = currentBox();
    if (f && !notClaim) {
      boxes().filter((b) => !b.classList.contains("deleted")).forEach((box) => {
        ROLES.forEach((role) => {
          const span = spanOf(box, role);
          if (!span) return;
          const name = box === current ? "claim-" + role : role === "content" ? "other-claim" : null;
          if (name) groups[name].push(...rangesOf(span[0], span[1]));
        });
      });
    }
    // Labels saved on this page whose spans reach into other rows: those rows were not
    // rendered again, so their part is drawn here (a reload renders them as marks).
    const id0 = editor()?.dataset.sentence;
    Object.entries(savedSpans).forEach(([owner, spans]) => {
      if (owner === id0) return;
      const home = document.getElementById("s-" + owner);
      spans.forEach(([role, start, end]) => {
        rangesOf(start, end).forEach((range) => {
          if (!home || !home.contains(range.startContainer)) groups["saved-" + role].push(range);
        });
      });
    });
    Object.entries(groups).forEach(([name, ranges]) => CSS.highlights.set(name, new Highlight(...ranges)));
    const id = editor()?.dataset.sentence;
    document.querySelectorAll(".sentences mark[data-owner]").forEach((mark) => {
      mark.classList.toggle("stale", Boolean(id && f && mark.dataset.owner.split(" ").includes(id)));
    });
  }

  document.addEventListener("change", (event) => {
    if (event.target.name === "is_claim") syncClaimFields();
    if (event.target.matches("[data-claim-delete]")) refreshClaims();
  });
  document.addEventListener("focusin", (event) => {
    const box = event.target.closest && event.target.closest("[data-claim-box]");
    if (box && box !== currentBox()) setCurrent(box);
  });
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id === "editor" || event.detail.elt.id === "editor") markCurrent();
  });
  document.body.addEventListener("htmx:afterSettle", markCurrent);
  markCurrent();
  takeBaseline();
})();
