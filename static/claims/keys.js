// claimdesk keyboard module: shortcuts and span selection on the annotate page.
// No inline scripts and no eval, so a strict Content Security Policy can stay on.
(function () {
  "use strict";

  const typing = (el) =>
    el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName)) &&
    !(el.tagName === "INPUT" && ["radio", "checkbox", "button", "submit"].includes(el.type));

  // The review pages: 1-9 accept an annotator's label, e corrects, b sends back, j next.
  const review = document.querySelector("[data-review]");
  if (review) {
    document.addEventListener("keydown", (event) => {
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

  // Keys pressed while a save or a move is in flight belong to the next sentence: hold them
  // until its editor has been swapped in and processed, then replay them in order.
  let busy = false;
  const held = [];
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.target && event.detail.target.id === "editor") busy = true;
  });
  document.body.addEventListener("htmx:afterSettle", (event) => {
    if (event.target.id !== "editor") return; // out-of-band rows settle too; wait for the editor
    busy = false;
    while (held.length && !busy) handle(held.shift());
  });
  document.body.addEventListener("htmx:afterRequest", (event) => {
    if (!event.detail.successful) busy = false; // nothing will be swapped in
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
    } else if (key === "s") document.getElementById("source-input")?.focus();
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
})();
