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

  // --- Claims and their spans: shared by the annotate page and the review page -------------
  // A claim form ([data-claim-form]: the annotate page's #label-form, the review page's
  // #gold-form) holds claims (the formset "claims"); one is current: the status keys, s, a and
  // the role keys apply to it. Spans are offsets into the article body: the form's text area
  // (the selector in its data-text-area) holds sentence rows with data-start / data-end, each
  // with a .text holding exactly body[start:end]; the row marked .current is where the word
  // cursor starts. Every function here takes the form.
  const PREFIX = "claims";
  const ROLES = ["content", "cue", "mention"];
  const ROLE_KEYS = { x: "content", v: "cue", m: "mention" };
  const claimForms = () => Array.from(document.querySelectorAll("[data-claim-form]"));
  const areaOf = (f) => (f && f.dataset.textArea ? document.querySelector(f.dataset.textArea) : null);
  const boxes = (f) => Array.from((f && f.querySelectorAll("[data-claim-box]")) || []);
  const currentBox = (f) => boxes(f).find((b) => b.classList.contains("current")) || boxes(f)[0];
  const field = (box, name) => box.querySelector('[name="' + box.dataset.prefix + "-" + name + '"]');
  let painter = null; // the page's highlights: set below by the page that has claim forms
  const paint = () => painter && painter();

  function check(f, selector, within) {
    const input = (within || f) && (within || f).querySelector(selector);
    if (input) {
      input.checked = true;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  const markClaim = (f) => check(f, 'input[name="is_claim"][value="yes"]');

  function setStatus(f, key) {
    markClaim(f);
    check(f, 'input[name$="-status"][data-key="' + key + '"]', currentBox(f));
  }

  function cycleAttribution(f) {
    const select = currentBox(f)?.querySelector("[data-attribution-select]");
    if (select) select.selectedIndex = (select.selectedIndex + 1) % select.options.length;
  }

  function focusSource(f) {
    const input = currentBox(f)?.querySelector("[data-source-input]");
    input?.focus();
    input?.select(); // typing replaces the suggested source
  }

  // Non-claims carry no source or status: dim those fields so the state is visible.
  function syncClaimFields(f) {
    if (!f) return;
    const notClaim = f.querySelector('input[name="is_claim"][value="no"]');
    f.classList.toggle("not-claim", Boolean(notClaim && notClaim.checked));
    paint();
  }

  function setCurrent(f, box) {
    boxes(f).forEach((b) => b.classList.toggle("current", b === box));
    paint();
  }

  function cycleClaims(f, step) {
    const all = boxes(f);
    if (all.length < 2) return;
    const next = all[(all.indexOf(currentBox(f)) + step + all.length) % all.length];
    setCurrent(f, next);
    next.scrollIntoView({ block: "nearest" });
  }

  function spanOf(box, role) {
    const start = field(box, role + "_start")?.value;
    const end = field(box, role + "_end")?.value;
    return start && end ? [Number(start), Number(end)] : null;
  }

  function setSpanOf(f, box, role, span) {
    field(box, role + "_start").value = span ? span[0] : "";
    field(box, role + "_end").value = span ? span[1] : "";
    showSpan(f, box, role);
    paint();
  }

  function showSpan(f, box, role) {
    const out = box.querySelector('[data-span-text="' + role + '"]');
    const span = spanOf(box, role);
    if (out) out.textContent = span ? bodyText(f, span[0], span[1]) || "—" : "—";
  }

  function toggleDeleted(f, box) {
    const input = box && box.querySelector("[data-claim-delete]");
    if (!input) return;
    input.checked = !input.checked;
    refreshClaims(f);
  }

  // A further claim, from the formset's empty form (<template id="claim-template">).
  function addClaim(f, quiet) {
    const template = f && f.querySelector("template#claim-template");
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
      markClaim(f);
      setCurrent(f, box);
      box.scrollIntoView({ block: "nearest" });
    }
    refreshClaims(f);
    return true;
  }

  // Numbers, removed claims and span texts as the form holds them; then the highlights.
  function refreshClaims(f) {
    let number = 0;
    boxes(f).forEach((box) => {
      const deleted = Boolean(box.querySelector("[data-claim-delete]")?.checked);
      box.classList.toggle("deleted", deleted);
      const label = box.querySelector("[data-claim-number]");
      if (label) label.textContent = deleted ? "(removed)" : String(++number);
      ROLES.forEach((role) => showSpan(f, box, role));
    });
    syncClaimFields(f); // and paint
  }

  // Mark the selection (the word cursor's, or the mouse's) as a role of the current claim.
  function assign(f, role) {
    const box = currentBox(f);
    const span = selectedSpan(f);
    if (!box || !span || box.classList.contains("deleted")) return;
    setSpanOf(f, box, role, span);
    markClaim(f);
  }

  // The claim keys both pages share; true when the key was one of them.
  function claimKey(f, { key, shift }) {
    if (/^[1-9]$/.test(key)) setStatus(f, key);
    else if (key === "c") markClaim(f);
    else if (key === "n") check(f, 'input[name="is_claim"][value="no"]');
    else if (key === "s") focusSource(f);
    else if (key === "a") cycleAttribution(f);
    else if (key === "ArrowLeft" || key === "h") moveCursor(f, -1, shift);
    else if (key === "ArrowRight" || key === "l") moveCursor(f, 1, shift);
    else if (key === "H") moveCursor(f, -1, true);
    else if (key === "L") moveCursor(f, 1, true);
    else if (ROLE_KEYS[key]) assign(f, ROLE_KEYS[key]);
    else if (key === "+" || key === "A") addClaim(f, false);
    else if (key === "]") cycleClaims(f, 1);
    else if (key === "[") cycleClaims(f, -1);
    else if (key === "Delete" || key === "Backspace") toggleDeleted(f, currentBox(f));
    else return false;
    return true;
  }

  // A click in a claim form: a source picked from the results, a claim box made current, a
  // span cleared, a role button (the mouse's selection), a further claim.
  function claimClick(f, event) {
    const pick = event.target.closest("[data-source-pick]");
    if (pick) {
      const input = currentBox(f)?.querySelector("[data-source-input]");
      if (!input) return true;
      input.value = pick.dataset.sourcePick;
      input.focus();
      return true;
    }
    const box = event.target.closest("[data-claim-box]");
    if (box && box !== currentBox(f)) setCurrent(f, box);
    const clear = event.target.closest("[data-span-clear]");
    if (clear && box) {
      setSpanOf(f, box, clear.dataset.spanClear, null);
      return true;
    }
    const role = event.target.closest("[data-role]");
    if (role && box) {
      role.blur(); // Enter saves again, it does not press the button once more
      assign(f, role.dataset.role);
      return true;
    }
    if (event.target.closest("[data-claim-add]")) {
      addClaim(f, false);
      return true;
    }
    return false;
  }

  document.addEventListener("change", (event) => {
    const f = event.target.closest && event.target.closest("[data-claim-form]");
    if (!f) return;
    if (event.target.name === "is_claim") syncClaimFields(f);
    if (event.target.matches("[data-claim-delete]")) refreshClaims(f);
  });
  document.addEventListener("focusin", (event) => {
    const box = event.target.closest && event.target.closest("[data-claim-box]");
    const f = box && box.closest("[data-claim-form]");
    if (f && box !== currentBox(f)) setCurrent(f, box);
  });

  // --- The text as body offsets ----------------------------------------------------------
  function textRows(f) {
    const area = areaOf(f);
    if (!area) return [];
    return Array.from(area.querySelectorAll(".sentence[data-start]:not(.kind-credit):not(.kind-dateline)")).map((row) => {
      const text = row.querySelector(".text");
      return { row, text, start: Number(row.dataset.start), end: Number(row.dataset.end) };
    }).filter((r) => r.text && !Number.isNaN(r.start));
  }

  function bodyText(f, start, end) {
    return textRows(f)
      .filter((r) => r.start < end && r.end > start)
      .map((r) => r.text.textContent.slice(Math.max(start, r.start) - r.start, Math.min(end, r.end) - r.start))
      .join(" ");
  }

  function charAt(f, offset) {
    const r = textRows(f).find((x) => x.start <= offset && offset < x.end);
    return r ? r.text.textContent.charAt(offset - r.start) : " ";
  }

  // The body offset of a DOM position: inside a row's text exactly; elsewhere in a row (its
  // number, its chip) the row's start or end; between rows the start of the next row.
  function offsetOf(f, node, offset) {
    const all = textRows(f);
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
  function positionOf(f, offset, atEnd) {
    const r = textRows(f).find((x) => (atEnd ? x.start < offset && offset <= x.end : x.start <= offset && offset < x.end));
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
  function rangesOf(f, start, end) {
    return textRows(f)
      .filter((r) => r.start < end && r.end > start)
      .map((r) => {
        const from = positionOf(f, Math.max(start, r.start), false);
        const to = positionOf(f, Math.min(end, r.end), true);
        if (!from || !to) return null;
        const range = document.createRange();
        range.setStart(from[0], from[1]);
        range.setEnd(to[0], to[1]);
        return range;
      })
      .filter(Boolean);
  }

  // The selected text in the form's text as body offsets, without the spaces at its edges.
  let lastSelection = null; // {area, span}: the mouse's last selection (a role button's click clears it)
  function selectedSpan(f) {
    const selection = window.getSelection();
    const area = areaOf(f);
    let span = null;
    if (selection && !selection.isCollapsed && area && selection.rangeCount) {
      const range = selection.getRangeAt(0);
      if (area.contains(range.commonAncestorContainer)) {
        span = [offsetOf(f, range.startContainer, range.startOffset), offsetOf(f, range.endContainer, range.endOffset)];
      }
    }
    if (!span && lastSelection && lastSelection.area === area) span = lastSelection.span;
    if (!span) return null;
    let [start, end] = span;
    while (start < end && /\s/.test(charAt(f, start))) start++;
    while (end > start && /\s/.test(charAt(f, end - 1))) end--;
    return end > start ? [start, end] : null;
  }
  document.addEventListener("selectionchange", () => {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return;
    const range = selection.getRangeAt(0);
    claimForms().forEach((f) => {
      const area = areaOf(f);
      if (!area || !area.contains(range.commonAncestorContainer)) return;
      lastSelection = { area, span: [offsetOf(f, range.startContainer, range.startOffset), offsetOf(f, range.endContainer, range.endOffset)] };
    });
  });

  // --- The word cursor -------------------------------------------------------------------
  // Words of the form's sentence rows (letters and digits, with inner apostrophes, hyphens,
  // points and commas: "Russia's", "18-hour", "1,200"). The cursor starts on the first word of
  // the current row and may move into the rows around it; Shift extends the selection from
  // where it started. The selection is the page's own, so it shows as one.
  const WORD = /[\p{L}\p{N}]+(?:['’.,\-][\p{L}\p{N}]+)*/gu;
  let cursor = null; // {form, anchor, focus}: indexes into words(form)

  function words(f) {
    const list = [];
    textRows(f).forEach((r) => {
      for (const match of r.text.textContent.matchAll(WORD)) {
        list.push({ start: r.start + match.index, end: r.start + match.index + match[0].length, row: r.row });
      }
    });
    return list;
  }

  function resetCursor(f) {
    lastSelection = null;
    dropSelection(f);
  }

  // Drops the word selection; true if there was one.
  function dropSelection(f) {
    const had = Boolean(cursor);
    cursor = null;
    const selection = window.getSelection();
    const area = areaOf(f);
    if (selection && selection.rangeCount && area && area.contains(selection.anchorNode)) {
      selection.removeAllRanges();
      return true;
    }
    return had;
  }

  function moveCursor(f, step, extend) {
    const list = words(f);
    if (!list.length) return;
    if (!cursor || cursor.form !== f) {
      let first = list.findIndex((w) => w.row.classList.contains("current"));
      if (first < 0) first = 0;
      cursor = { form: f, anchor: first, focus: first };
      if (!extend) return showCursor(f, list);
    }
    cursor.focus = Math.min(list.length - 1, Math.max(0, cursor.focus + step));
    if (!extend) cursor.anchor = cursor.focus;
    showCursor(f, list);
  }

  function showCursor(f, list) {
    const a = list[Math.min(cursor.anchor, cursor.focus)];
    const b = list[Math.max(cursor.anchor, cursor.focus)];
    const from = positionOf(f, a.start, false);
    const to = positionOf(f, b.end, true);
    if (!from || !to) return;
    window.getSelection().setBaseAndExtent(from[0], from[1], to[0], to[1]);
    lastSelection = { area: areaOf(f), span: [a.start, b.end] };
    list[cursor.focus].row.scrollIntoView({ block: "nearest" });
  }

  // --- Highlights ------------------------------------------------------------------------
  // The current claim's spans while it is edited, and the other claims' content, through the
  // CSS Custom Highlight API (no change to the text's DOM).
  const canPaint = () => window.CSS && CSS.highlights && typeof Highlight !== "undefined";
  const highlightGroups = () => ({ "claim-content": [], "claim-cue": [], "claim-mention": [],
    "other-claim": [], "saved-content": [], "saved-cue": [], "saved-mention": [] });

  function drawClaims(f, groups) {
    if (!f || f.classList.contains("not-claim")) return;
    const current = currentBox(f);
    boxes(f).filter((b) => !b.classList.contains("deleted")).forEach((box) => {
      ROLES.forEach((role) => {
        const span = spanOf(box, role);
        if (!span) return;
        const name = box === current ? "claim-" + role : role === "content" ? "other-claim" : null;
        if (name) groups[name].push(...rangesOf(f, span[0], span[1]));
      });
    });
  }

  const setHighlights = (groups) =>
    Object.entries(groups).forEach(([name, ranges]) => CSS.highlights.set(name, new Highlight(...ranges)));

  function toggleShortcuts() {
    const dialog = document.getElementById("shortcuts");
    if (!dialog) return;
    if (dialog.open) dialog.close();
    else dialog.showModal();
  }

  // --- Review pages: 1-9 accept an annotator's label, e corrects, b sends back, j next ----
  // Looked up on each key: the page is boosted, so its content is replaced after each action.
  // `e` enters the correction form (#gold-form.editing): there the claim keys of the annotate
  // page apply to it (digits set the current claim's status, not accept a label) and Enter
  // saves it; Esc drops the word selection, and a second Esc leaves the form.
  if (document.querySelector("[data-review]")) {
    document.documentElement.classList.add("js"); // shows the controls that need this module
    const goldForm = () => document.querySelector("[data-review] #gold-form");
    const correcting = () => Boolean(goldForm()?.classList.contains("editing"));

    function startCorrecting(focus) {
      const f = goldForm();
      if (!f) return;
      f.classList.add("editing");
      if (focus) {
        const choice = f.querySelector('input[name="is_claim"]:checked') || f.querySelector('input[name="is_claim"]');
        choice?.focus();
      }
    }

    function stopCorrecting() {
      const f = goldForm();
      if (!f) return;
      f.classList.remove("editing");
      dropSelection(f);
      if (f.contains(document.activeElement)) document.activeElement.blur();
    }

    painter = () => {
      if (!canPaint()) return;
      const groups = highlightGroups();
      drawClaims(goldForm(), groups);
      setHighlights(groups);
    };

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
      const f = goldForm();
      let handled = true;
      if (correcting() && f) {
        if (key === "Escape") {
          if (!dropSelection(f)) stopCorrecting();
          return; // Escape still closes the shortcut sheet
        }
        if (key === "Enter") {
          if (event.target.closest("button, summary, a")) return;
          if (window.htmx) window.htmx.process(f);
          event.preventDefault();
          f.requestSubmit();
          return;
        }
        if (claimKey(f, { key, shift: event.shiftKey })) {
          event.preventDefault();
          return;
        }
      }
      if (/^[1-9]$/.test(key)) {
        const card = review.querySelector('[data-accept-key="' + key + '"]');
        if (card) card.requestSubmit(); else handled = false;
      } else if (key === "e") startCorrecting(true);
      else if (key === "b") {
        stopCorrecting();
        review.querySelector("#send-back-form textarea")?.focus();
      }
      else if (key === "j") review.querySelector("[data-key-next]")?.click();
      else if (key === "k") review.querySelector("[data-key-back]")?.click();
      else if (key === "?") toggleShortcuts();
      else handled = false;
      if (handled) event.preventDefault();
    });

    // The mouse enters the correction form too: a field, a button, a selection in its text.
    document.addEventListener("focusin", (event) => {
      const f = goldForm();
      if (!f) return;
      if (f.contains(event.target)) startCorrecting(false);
      else if (event.target.closest && event.target.closest("#send-back-form")) stopCorrecting();
    });
    document.addEventListener("mouseup", (event) => {
      if (event.target.closest && event.target.closest(".gold-context")) startCorrecting(false);
    });
    document.addEventListener("click", (event) => {
      const f = goldForm();
      if (f && f.contains(event.target) && claimClick(f, event)) startCorrecting(false);
      if (event.target.closest && event.target.closest("[data-review] [data-shortcuts-toggle]")) {
        toggleShortcuts();
      }
    });

    const drawGold = () => {
      const f = goldForm();
      if (f) refreshClaims(f);
      else paint();
    };
    document.body.addEventListener("htmx:afterSettle", drawGold);
    drawGold();

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
  let cursorSentence = null;

  function markCurrent() {
    const id = editor() && editor().dataset.sentence;
    rows().forEach((row) => row.classList.toggle("current", row.dataset.sentence === id));
    const current = id && document.getElementById("s-" + id);
    if (current) current.scrollIntoView({ block: "nearest", behavior: "smooth" });
    if (id !== cursorSentence) {
      cursorSentence = id;
      resetCursor(form());
    }
    refreshClaims(form());
  }

  function go(step) {
    const all = rows();
    const index = all.findIndex((row) => row.classList.contains("current"));
    const target = all[Math.min(all.length - 1, Math.max(0, index + step))];
    if (target && target !== all[index]) target.querySelector("a.pos").click();
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
    const wanted = Number(values.get(PREFIX + "-TOTAL_FORMS") || boxes(f).length);
    boxes(f).slice(wanted).forEach((box) => box.remove());
    while (boxes(f).length < wanted && addClaim(f, true));
    const keep = ["csrfmiddlewaretoken", "version"];
    Array.from(f.elements).forEach((input) => {
      if (!input.name || keep.includes(input.name)) return;
      const wanted = values.getAll(input.name);
      if (input.type === "radio" || input.type === "checkbox") input.checked = wanted.includes(input.value);
      else if (wanted.length) input.value = wanted[0];
    });
    const box = boxes(f)[claimIndex] || currentBox(f);
    if (box) setCurrent(f, box);
    if (proposed && box) box.querySelector("[data-source-input]").value = proposed;
    refreshClaims(f);
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
    if (event.detail.elt.closest && event.detail.elt.closest("details.propose, [data-propose-suggested]") && form()) {
      carry = {
        sentence: editor().dataset.sentence,
        values: new URLSearchParams(new FormData(form())),
        proposed: event.detail.elt.querySelector('[name="propose-name"]')?.value.trim(),
        claim: boxes(form()).indexOf(currentBox(form())),
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

  // p: propose the suggested new source (a speaker the taxonomy lacks); the label form is
  // carried across (htmx:beforeRequest above) and the new source fills the current claim.
  function proposeSuggested() {
    const proposal = editor()?.querySelector("form[data-propose-suggested]");
    if (!proposal) return;
    if (window.htmx) window.htmx.process(proposal);
    proposal.requestSubmit();
  }

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
    /^([jkcnsaup?1-9xvmhlHLA+[\]]|Enter|ArrowUp|ArrowDown|ArrowLeft|ArrowRight|Delete|Backspace)$/;

  function handle({ key, target, shift }) {
    let handled = true;
    const f = form();
    if (key === "j" || key === "ArrowDown") go(1);
    else if (key === "k" || key === "ArrowUp") go(-1);
    else if (f && claimKey(f, { key, shift })) handled = true;
    else if (key === "Escape") {
      dropSelection(f);
      handled = false; // Escape still closes the shortcut sheet
    }
    else if (key === "Enter" && f && !target.closest("button, summary, a")) submit();
    else if (key === "u") document.getElementById("undo-form")?.requestSubmit();
    else if (key === "p") proposeSuggested();
    else if (key === "?") toggleShortcuts();
    else handled = false;
    return handled;
  }

  // Clicking a sentence's text opens it, unless the click ended a text selection.
  workspace.addEventListener("click", (event) => {
    const f = form();
    if (f && f.contains(event.target) && claimClick(f, event)) return;
    if (event.target.closest("[data-shortcuts-toggle]")) return toggleShortcuts();
    const text = event.target.closest(".sentence.kind-sentence .text");
    if (text && String(window.getSelection()).length === 0) {
      text.parentElement.querySelector("a.pos").click();
    }
  });

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
      boxes(elt).filter((b) => !b.querySelector("[data-claim-delete]")?.checked).forEach((box) => {
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

  // The label form's claims (drawClaims), and the saved marks of the sentence being edited
  // step back meanwhile (.stale). Browsers without the API show the saved marks.
  painter = () => {
    if (!canPaint()) return;
    const groups = highlightGroups();
    const f = form();
    drawClaims(f, groups);
    // Labels saved on this page whose spans reach into other rows: those rows were not
    // rendered again, so their part is drawn here (a reload renders them as marks).
    const id = editor()?.dataset.sentence;
    const surface = f || document.querySelector("[data-claim-form]");
    Object.entries(savedSpans).forEach(([owner, spans]) => {
      if (owner === id) return;
      const home = document.getElementById("s-" + owner);
      spans.forEach(([role, start, end]) => {
        rangesOf(surface, start, end).forEach((range) => {
          if (!home || !home.contains(range.startContainer)) groups["saved-" + role].push(range);
        });
      });
    });
    setHighlights(groups);
    document.querySelectorAll(".sentences mark[data-owner]").forEach((mark) => {
      mark.classList.toggle("stale", Boolean(id && f && mark.dataset.owner.split(" ").includes(id)));
    });
  };

  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id === "editor" || event.detail.elt.id === "editor") markCurrent();
  });
  document.body.addEventListener("htmx:afterSettle", markCurrent);
  markCurrent();
  takeBaseline();
})();
