/* After an htmx swap, take keyboard focus to its outcome and say it aloud, for
   every page at once rather than per form:
   - a form that was sent (any verb but GET): focus goes to the first field in
     error, else to the element the partial marks data-autofocus, else to the
     status or error message; focus stays put for searches and filters, which
     answer while the person types or chooses;
   - a GET partial may still ask for focus with data-autofocus (a panel it opens);
   - the outcome's text goes to the page's live region (#live-status), which
     exists before the swap, so screen readers announce it.
   Also: a table box that scrolls sideways is given a tab stop, so the keyboard
   can scroll it (axe: scrollable-region-focusable). */
(function () {
  "use strict";

  var OUTCOME = "[role=alert], [role=status], .form-error, .success, [data-announce]";
  var pending = [];
  var sent = false;
  var timer = null;

  function visible(el) {
    return el.isConnected && el.getClientRects().length > 0;
  }

  function within(roots, selector) {
    for (var i = 0; i < roots.length; i++) {
      var root = roots[i];
      if (!root.isConnected || root.id === "live-status") { continue; }
      if (root.matches(selector) && visible(root)) { return root; }
      var found = root.querySelectorAll(selector);
      for (var j = 0; j < found.length; j++) {
        if (visible(found[j])) { return found[j]; }
      }
    }
    return null;
  }

  function textOf(el) {
    return el ? el.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function fieldText(field) {
    var label = field.labels && field.labels.length ? textOf(field.labels[0]) : "";
    var ids = (field.getAttribute("aria-describedby") || "").split(/\s+/);
    var words = [label];
    ids.forEach(function (id) {
      var described = id && document.getElementById(id);
      if (described && described.classList.contains("field-error")) { words.push(textOf(described)); }
    });
    return words.filter(Boolean).join(": ");
  }

  function say(text) {
    var region = document.getElementById("live-status");
    if (!region || !text) { return; }
    region.classList.remove("shown");
    region.classList.add("sr-only");  // the outcome is on the page already; this is for the ear
    region.textContent = "";
    // A fresh text node after clearing makes screen readers announce a repeat too.
    window.setTimeout(function () { region.textContent = text; }, 30);
  }

  function focus(el) {
    if (!el.matches("a[href], button, input, select, textarea, [tabindex]")) {
      el.setAttribute("tabindex", "-1");
    }
    el.focus({ preventScroll: false });
  }

  function settle() {
    var roots = pending;
    var moveFocus = sent;
    pending = [];
    sent = false;
    timer = null;
    var invalid = within(roots, "[aria-invalid=true]");
    var chosen = within(roots, "[data-autofocus]");
    var message = within(roots, OUTCOME);
    var text = textOf(message);
    if (invalid) {
      var summary = within(roots, ".form-error");
      text = [textOf(summary), fieldText(invalid)].filter(Boolean).join(" ");
    }
    var target = invalid || chosen || message;
    if (target && (moveFocus || (chosen && target === chosen))) { focus(target); }
    say(text || (chosen && chosen !== invalid ? textOf(chosen) : ""));
    markScrollable();
  }

  document.addEventListener("htmx:afterSettle", function (evt) {
    pending.push(evt.target);
    var config = evt.detail && evt.detail.requestConfig;
    if (config && config.verb && config.verb !== "get") { sent = true; }
    if (timer === null) { timer = window.setTimeout(settle, 0); }
  });

  function markScrollable() {
    var boxes = document.querySelectorAll(".table-wrap");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      if (box.scrollWidth > box.clientWidth + 1) {
        if (!box.hasAttribute("tabindex")) {
          box.setAttribute("tabindex", "0");
          box.setAttribute("data-scroll-stop", "");
        }
      } else if (box.hasAttribute("data-scroll-stop")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("data-scroll-stop");
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", markScrollable);
  } else {
    markScrollable();
  }
  window.addEventListener("resize", function () { window.requestAnimationFrame(markScrollable); });
}());
