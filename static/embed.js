// searchapp embedding, the iframe half. No inline scripts (CSP).
// Inside the /embed page: tell the parent page how tall the content is, whenever that changes.
// On a page that shows searchapp frames (the /embed/demo page): size those frames from the messages.
(function () {
  "use strict";

  var root = document.querySelector(".embed");
  if (root && window.parent !== window && typeof ResizeObserver === "function") {
    var last = 0;
    new ResizeObserver(function () {
      var height = Math.ceil(root.getBoundingClientRect().height);
      if (height !== last) {
        last = height;
        window.parent.postMessage({ type: "searchapp:resize", height: height }, "*");
      }
    }).observe(root);
  }

  // The same few lines the README gives host pages.
  window.addEventListener("message", function (event) {
    if (!event.data || event.data.type !== "searchapp:resize") { return; }
    document.querySelectorAll("iframe[data-searchapp]").forEach(function (frame) {
      if (frame.contentWindow === event.source) { frame.style.height = event.data.height + "px"; }
    });
  });
})();
