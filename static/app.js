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

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target || event.target;
    if (!(target instanceof Element)) { return; }
    if (target.id === "results") { announce(); }
    if (target.classList.contains("more-hits")) { dropRepeatedHits(target); }
  });
  document.addEventListener("htmx:historyRestore", function () { syncSearchBox(); announce(); });
})();
