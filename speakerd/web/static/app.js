// Keeps the dashboard live without reloading it: the panel picture and the counts.
(function () {
  "use strict";
  function refreshPanel(img) {
    var every = parseFloat(img.dataset.refresh) * 1000;
    setInterval(function () {
      img.src = img.src.split("?")[0] + "?t=" + Date.now();
    }, every);
  }
  function refreshState() {
    var platform = document.getElementById("platform-state");
    if (!platform) return;
    setInterval(function () {
      fetch("/api/state", {credentials: "same-origin"}).then(function (r) {
        return r.ok ? r.json() : null;
      }).then(function (s) {
        if (!s) return;
        platform.textContent = s.platform_text;
        platform.className = "card " + (s.platform_ok ? "ok" : "bad");
        document.getElementById("today-messages").textContent = s.today.messages;
        document.getElementById("today-unacked").textContent = s.today.unacked;
      }).catch(function () {});
    }, 5000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("img[data-refresh]").forEach(refreshPanel);
    refreshState();
  });
})();
