// searchapp page behaviour: keyboard paths, announcements, history. No inline scripts (CSP).
(function () {
  "use strict";

  function searchBox() { return document.getElementById("q"); }
  function hitLinks() { return Array.prototype.slice.call(document.querySelectorAll("#results .hit-title a")); }
  function isTyping(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.isContentEditable);
  }

  function moveFocus(step) {
    var links = hitLinks();
    if (!links.length) { return false; }
    var index = links.indexOf(document.activeElement);
    if (index === -1) {
      index = step > 0 ? 0 : links.length - 1;
    } else {
      index = index + step;
      if (index < 0) { searchBox().focus(); return true; }
      if (index >= links.length) { index = links.length - 1; }
    }
    links[index].focus();
    links[index].closest(".hit").scrollIntoView({ block: "nearest" });
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var box = searchBox();
    if (event.key === "/" && box && !isTyping(document.activeElement)) {
      event.preventDefault();
      box.focus();
      box.select();
    } else if (event.key === "ArrowDown" && (document.activeElement === box || hitLinks().indexOf(document.activeElement) !== -1)) {
      if (moveFocus(1)) { event.preventDefault(); }
    } else if (event.key === "ArrowUp" && hitLinks().indexOf(document.activeElement) !== -1) {
      if (moveFocus(-1)) { event.preventDefault(); }
    } else if (event.key === "Escape" && document.activeElement === box && box.value) {
      box.value = "";
      box.dispatchEvent(new Event("input", { bubbles: true }));
    }
  });

  function announce() {
    var summary = document.getElementById("summary");
    var announcer = document.getElementById("announcer");
    if (summary && announcer) { announcer.textContent = summary.textContent.replace(/\s+/g, " ").trim(); }
  }

  function dropRepeatedHits(target) {
    var owner = target.closest(".hit");
    if (!owner) { return; }
    target.querySelectorAll(".hit").forEach(function (hit) {
      if (hit.dataset.id === owner.dataset.id) { hit.remove(); }
    });
    var more = owner.querySelector(".more");
    if (more) { more.remove(); }
  }

  // A restored history snapshot has the search box as first rendered; the URL knows what was searched.
  function syncSearchBox() {
    var box = searchBox();
    if (box) { box.value = new URLSearchParams(window.location.search).get("q") || ""; }
  }

  // One history entry per search, not per keystroke: the first results after a pause in
  // typing (or after following a link) push a new URL; results while typing on replace it.
  var PAUSE_MS = 1000;
  var lastInput = 0;
  var pushNext = true;
  var requestFromForm = false;
  function searchForm() {
    var form = document.getElementById("search-form");
    return form && form.hasAttribute("hx-get") ? form : null;
  }
  function historyMode(push) {
    var form = searchForm();
    if (!form) { return; }
    if (push) {
      form.setAttribute("hx-push-url", "true");
      form.removeAttribute("hx-replace-url");
    } else {
      form.removeAttribute("hx-push-url");
      form.setAttribute("hx-replace-url", "true");
    }
  }
  document.addEventListener("input", function (event) {
    if (!event.target.form || event.target.form !== searchForm()) { return; }
    var now = Date.now();
    if (now - lastInput > PAUSE_MS) { pushNext = true; }
    lastInput = now;
    historyMode(pushNext);
  }, true);
  document.addEventListener("htmx:beforeRequest", function (event) {
    requestFromForm = event.detail.elt === searchForm();
  });
  // Results while typing let the last word stand for the words it begins; a submitted search
  // (Enter, a link, the back button) takes the words as they are.
  document.addEventListener("htmx:configRequest", function (event) {
    var trigger = event.detail.triggeringEvent;
    if (event.detail.elt === searchForm() && trigger && trigger.type === "input") {
      event.detail.headers["X-Searchapp-Typing"] = "1";
    }
  });
  document.addEventListener("htmx:pushedIntoHistory", function () {
    pushNext = !requestFromForm;
    historyMode(pushNext);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target || event.target;
    if (!(target instanceof Element)) { return; }
    if (target.id === "results") { announce(); }
    if (target.classList.contains("more-hits")) { dropRepeatedHits(target); }
  });
  document.addEventListener("htmx:historyRestore", function () { syncSearchBox(); announce(); });
})();
