// Passerelle — progressive enhancement only: drag-and-drop and picker
// uploads with one progress bar per file (XHR to the REST API with the
// session's CSRF header), and the invitation code taken from the link's
// fragment. Pages work without it (uploads then post the form).
(function () {
  "use strict";
  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function uploadOne(zone, file, list, msgs) {
    return new Promise(function (resolve) {
      var li = document.createElement("li");
      var name = document.createElement("span");
      name.textContent = file.name;
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", file.name);
      var state = document.createElement("span");
      state.className = "state";
      li.appendChild(name);
      li.appendChild(bar);
      li.appendChild(state);
      list.appendChild(li);
      var url = zone.getAttribute("data-upload-url");
      if (zone.getAttribute("data-multiple") === "true") {
        url += "?name=" + encodeURIComponent(file.name);
        var folder = zone.getAttribute("data-folder");
        if (folder) { url += "&folder=" + encodeURIComponent(folder); }
      }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("X-CSRF-Token", csrf());
      xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) { bar.value = Math.round((e.loaded / e.total) * 100); }
      };
      xhr.onload = function () {
        var ok = xhr.status >= 200 && xhr.status < 300;
        if (ok) { bar.value = 100; }
        // 503 on the edge: its outbox is full for now; 507: the node's disk
        // is full; 423: someone else holds a lock on the document or the
        // folder. Nothing was stored in any case.
        state.textContent = ok
          ? msgs.getAttribute(xhr.status === 202 ? "data-msg-pending" : "data-msg-done")
          : xhr.status === 503
            ? msgs.getAttribute("data-msg-full")
            : xhr.status === 507
              ? msgs.getAttribute("data-msg-storage")
              : xhr.status === 423
                ? msgs.getAttribute("data-msg-locked")
                : msgs.getAttribute("data-msg-failed") + " (" + xhr.status + ")";
        li.className = ok ? "done" : "failed";
        resolve(ok);
      };
      xhr.onerror = function () {
        state.textContent = msgs.getAttribute("data-msg-failed");
        li.className = "failed";
        resolve(false);
      };
      xhr.send(file);
    });
  }

  function uploadAll(zone, files) {
    var list = zone.querySelector(".progress-list");
    var msgs = zone.querySelector("[data-msg-done]");
    var jobs = [];
    for (var i = 0; i < files.length; i++) { jobs.push(uploadOne(zone, files[i], list, msgs)); }
    Promise.all(jobs).then(function (results) {
      zone.setAttribute("data-uploaded", String(results.length));
      if (results.every(Boolean)) {
        // Show the new listing; the bars stay visible for a moment.
        setTimeout(function () { window.location.reload(); }, 800);
      }
    });
  }

  function wire(zone) {
    var input = zone.querySelector('input[type="file"]');
    var msgs = zone.querySelector("[data-msg-done]");
    if (msgs) { msgs.textContent = ""; }
    // The form posts the files itself without the script; with it, each
    // file goes to the API with its own progress bar as soon as chosen.
    var send = zone.querySelector("[data-without-script]");
    if (send) { send.hidden = true; }
    zone.addEventListener("submit", function (e) {
      e.preventDefault();
      if (input && input.files && input.files.length) { uploadAll(zone, input.files); }
    });
    if (input) {
      input.addEventListener("change", function () {
        if (input.files && input.files.length) { uploadAll(zone, input.files); }
      });
    }
    zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      zone.classList.remove("over");
      if (e.dataTransfer && e.dataTransfer.files.length) { uploadAll(zone, e.dataTransfer.files); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var zones = document.querySelectorAll(".dropzone[data-upload-url]");
    for (var i = 0; i < zones.length; i++) { wire(zones[i]); }
    var secret = document.querySelector("input[data-from-fragment]");
    if (secret && window.location.hash.length > 1) {
      secret.value = decodeURIComponent(window.location.hash.slice(1));
      history.replaceState(null, "", window.location.pathname);
    }
  });
})();
