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

  const editor = () => document.getElementById("editor");
  const form = () => document.getElementById("label-form");
  const rows = () => Array.from(document.querySelectorAll(".sentence.kind-sentence"));

  function markCurrent() {
    const id = editor() && editor().dataset.sentence;
    rows().forEach((row) => row.classList.toggle("current", row.dataset.sentence === id));
    const current = id && document.getElementById("s-" + id);
    if (current) current.scrollIntoView({ block: "nearest", behavior: "smooth" });
    syncClaimFields();
  }

  function go(step) {
    const all = rows();
    const index = all.findIndex((row) => row.classList.contains("current"));
    const target = all[Math.min(all.length - 1, Math.max(0, index + step))];
    if (target && target !== all[index]) target.querySelector("a.pos").click();
  }

  function check(selector) {
    const input = form() && form().querySelector(selector);
    if (input) {
      input.checked = true;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  function cycleAttribution() {
    const select = document.getElementById("attribution-select");
    if (select) select.selectedIndex = (select.selectedIndex + 1) % select.options.length;
  }

  // Non-claims carry no source or status: dim those fields so the state is visible.
  function syncClaimFields() {
    const f = form();
    if (!f) return;
    const notClaim = f.querySelector('input[name="is_claim"][value="no"]');
    f.classList.toggle("not-claim", Boolean(notClaim && notClaim.checked));
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

  function restore(values, proposed) {
    const f = form();
    const keep = ["csrfmiddlewaretoken", "version"];
    Array.from(f.elements).forEach((input) => {
      if (!input.name || keep.includes(input.name)) return;
      const wanted = values.getAll(input.name);
      if (input.type === "radio" || input.type === "checkbox") input.checked = wanted.includes(input.value);
      else if (wanted.length) input.value = wanted[0];
    });
    if (proposed) f.elements.source.value = proposed;
    const start = f.elements.span_start.value;
    if (start !== "") setSpan(Number(start), Number(f.elements.span_end.value));
    syncClaimFields();
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
    restore(new URLSearchParams(baseline), null);
    if (form().elements.span_start.value === "") setSpan(null, null);
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
      restore(back.values, event.detail.xhr.status < 300 ? back.proposed : null);
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
        held.push({ key: event.key, target: event.target });
        event.preventDefault();
      }
      return;
    }
    if (handle({ key: event.key, target: event.target })) event.preventDefault();
  });

  const SHORTCUTS = /^([jkcnsau?1-9]|Enter|ArrowUp|ArrowDown)$/;

  function handle({ key, target }) {
    let handled = true;
    if (key === "j" || key === "ArrowDown") go(1);
    else if (key === "k" || key === "ArrowUp") go(-1);
    else if (key === "c") check('input[name="is_claim"][value="yes"]');
    else if (key === "n") check('input[name="is_claim"][value="no"]');
    else if (/^[1-9]$/.test(key)) {
      check('input[name="is_claim"][value="yes"]');
      check('input[name="status"][data-key="' + key + '"]');
    } else if (key === "s") {
      const input = document.getElementById("source-input");
      input?.focus();
      input?.select(); // typing replaces the suggested source
    }
    else if (key === "a") cycleAttribution();
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
      const input = document.getElementById("source-input");
      input.value = pick.dataset.sourcePick;
      input.focus();
      return;
    }
    if (event.target.closest("[data-span-clear]")) return setSpan(null, null);
    if (event.target.closest("[data-shortcuts-toggle]")) return toggleShortcuts();
    const text = event.target.closest(".sentence.kind-sentence .text");
    if (text && String(window.getSelection()).length === 0) {
      text.parentElement.querySelector("a.pos").click();
    }
  });

  function setSpan(start, end) {
    const f = form();
    if (!f) return;
    f.elements.span_start.value = start === null ? "" : start;
    f.elements.span_end.value = end === null ? "" : end;
    const label = f.querySelector("[data-span-label]");
    const text = document.querySelector("[data-span-source]").textContent;
    label.textContent = start === null
      ? "Select words in the sentence above to mark the claim span (optional)."
      : "Claim span: “" + text.slice(start, end) + "”";
  }

  // Selecting words in the editor's copy of the sentence marks the claim span (offsets
  // relative to the sentence text, which is what the server stores).
  document.addEventListener("mouseup", () => {
    const source = document.querySelector("[data-span-source]");
    const selection = window.getSelection();
    if (!source || selection.isCollapsed || !source.contains(selection.anchorNode)) return;
    const range = selection.getRangeAt(0);
    const before = document.createRange();
    before.selectNodeContents(source);
    before.setEnd(range.startContainer, range.startOffset);
    const start = before.toString().length;
    const end = start + range.toString().length;
    if (end > start) setSpan(start, end);
  });

  document.addEventListener("change", (event) => {
    if (event.target.name === "is_claim") syncClaimFields();
  });
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id === "editor" || event.detail.elt.id === "editor") markCurrent();
  });
  document.body.addEventListener("htmx:afterSettle", markCurrent);
  markCurrent();
  takeBaseline();
})();
