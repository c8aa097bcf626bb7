// Keeps the dashboard and the board live without reloading them: the panel
// picture every two seconds, and the changing part of the page (counts,
// latest messages, devices) swapped in from the device every few seconds.
(function () {
  "use strict";
  function refreshPanel(img) {
    var every = parseFloat(img.dataset.refresh) * 1000;
    setInterval(function () {
      img.src = img.src.split("?")[0] + "?t=" + Date.now();
    }, every);
  }
  function refreshLive(box) {
    setInterval(function () {
      if (box.contains(document.activeElement) && document.activeElement.tagName !== "BODY") return;
      fetch(box.dataset.live, {credentials: "same-origin", headers: {"Accept": "text/html"}}).then(function (r) {
        if (r.redirected || !r.ok) return null;  // logged out or the device restarting: keep what is shown
        return r.text();
      }).then(function (html) {
        if (html !== null) box.innerHTML = html;
      }).catch(function () {});
    }, 3000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("img[data-refresh]").forEach(refreshPanel);
    document.querySelectorAll("[data-live]").forEach(refreshLive);
  });
})();
