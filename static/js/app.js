/* The portal's only script (the CSP allows no inline code). htmx does the
   swapping; this file reports failed htmx requests where the person is looking,
   instead of letting an error page land inside a fragment. */
(function () {
  "use strict";

  function liveRegion() {
    return document.getElementById("live-status");
  }

  function announce(text) {
    var region = liveRegion();
    if (!region) { return; }
    region.textContent = "";
    region.classList.remove("sr-only");  // outcome.js hides what it only says aloud
    region.classList.add("shown");
    // A fresh text node after clearing makes screen readers announce a repeat too.
    window.setTimeout(function () { region.textContent = text; }, 30);
  }

  function messageFrom(xhr) {
    var region = liveRegion();
    var fallback = region ? region.getAttribute("data-msg-default") : "Error";
    if (!xhr || !xhr.responseText) { return fallback; }
    try {
      // DOMParser never runs scripts: the text is read, not inserted.
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var el = doc.querySelector("[data-error-message]");
      if (el && el.textContent.trim()) { return el.textContent.trim(); }
    } catch (e) { /* fall back below */ }
    return fallback;
  }

  document.addEventListener("htmx:responseError", function (evt) {
    announce(messageFrom(evt.detail.xhr));
  });

  document.addEventListener("htmx:sendError", function () {
    var region = liveRegion();
    announce(region ? region.getAttribute("data-msg-network") : "Network error");
  });

  document.addEventListener("htmx:beforeRequest", function () {
    var region = liveRegion();
    if (region) { region.textContent = ""; region.classList.remove("shown"); }
  });

  // Focus after a swap, and announcing its outcome: static/js/outcome.js.
}());

/* "Copy" beside a secret shown once: copies the text of the element named by
   data-copy-target. Without JavaScript the secret is still there to select. */
(function () {
  "use strict";
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest ? evt.target.closest("[data-copy-target]") : null;
    if (!button || !navigator.clipboard) { return; }
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source) { return; }
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = button.getAttribute("data-copied") || button.textContent;
    });
  });
})();

/* "/" from any page goes to the member search, as on GitHub or Gmail: the
   members page's box takes focus, and other pages open the members page (whose
   box is autofocused). Not while typing in a field, nor with a modifier key. */
(function () {
  "use strict";
  function typing(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }
  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "/" || evt.ctrlKey || evt.metaKey || evt.altKey || evt.defaultPrevented ||
        typing(evt.target) || typing(document.activeElement)) { return; }
    var box = document.querySelector("[data-search-box]");
    if (box) {
      evt.preventDefault();
      box.focus();
      box.select();
      return;
    }
    var link = document.querySelector("nav.tabs a[href$=\"/members/\"]");
    if (link) {
      evt.preventDefault();
      window.location.assign(link.href);
    }
  });
}());
