// Liên Thông web pages: a little plain JavaScript on top of forms that work without it.
//  - upload page: drag-and-drop onto the drop zone, an upload progress bar, then polling the batch until it is
//    processed, then the result page;
//  - result page of a batch still being processed: poll its status and reload when it is done.
"use strict";

(function () {
  const POLL_MS = 700;
  const POLL_LIMIT_MS = 10 * 60 * 1000; // after ten minutes, just open the result page (it says what is pending)

  function texts() {
    const node = document.getElementById("texts");
    return node ? JSON.parse(node.textContent) : {};
  }

  function setupUpload() {
    const form = document.getElementById("upload-form");
    if (!form) return;
    const t = texts();
    const drop = document.getElementById("drop");
    const input = document.getElementById("file");
    const chosen = document.getElementById("chosen");
    const progress = document.getElementById("progress");
    const bar = document.getElementById("progress-bar");
    const label = document.getElementById("progress-label");
    const status = document.getElementById("progress-status");
    const error = document.getElementById("form-error");
    const send = document.getElementById("send");

    function showChosen() {
      chosen.textContent = input.files.length ? `${t.chosen}: ${input.files[0].name}` : "";
    }
    function fail(message) {
      error.textContent = `${t.failed}: ${message}`;
      error.hidden = false;
      progress.hidden = true;
      send.disabled = false;
      error.focus && error.setAttribute("tabindex", "-1");
      error.focus();
    }

    input.addEventListener("change", showChosen);
    ["dragenter", "dragover"].forEach((name) => drop.addEventListener(name, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((name) => drop.addEventListener(name, () => drop.classList.remove("over")));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        showChosen();
      }
    });

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      error.hidden = true;
      if (!form.querySelector("input[name=source_id]:checked")) return fail(t.need_source);
      if (!input.files.length) return fail(t.need_file);
      const checkOnly = form.querySelector("input[name=mode]:checked").value === "check";
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
      });
      xhr.upload.addEventListener("load", () => {
        bar.value = 100;
        label.textContent = checkOnly ? t.checking : t.processing;
        bar.removeAttribute("value"); // indeterminate while the server works
      });
      xhr.addEventListener("error", () => fail(t.network));
      xhr.addEventListener("load", () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON: a proxy's error page */ }
        if (xhr.status >= 400) return fail(body.shown || body.message_vi || body.message || xhr.statusText);
        if (body.done || !body.status_url) return window.location.assign(body.url);
        status.textContent = t.processing;
        poll(body.status_url, body.url, Date.now());
      });
      label.textContent = t.sending;
      bar.value = 0;
      progress.hidden = false;
      send.disabled = true;
      xhr.send(new FormData(form));
    });

    function poll(statusUrl, resultUrl, started) {
      fetch(statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((r) => r.json())
        .then((s) => {
          status.textContent = s.label || s.status;
          if (s.done || Date.now() - started > POLL_LIMIT_MS) window.location.assign(resultUrl);
          else window.setTimeout(() => poll(statusUrl, resultUrl, started), POLL_MS);
        })
        .catch(() => window.setTimeout(() => poll(statusUrl, resultUrl, started), POLL_MS * 3));
    }
  }

  function setupResultRefresh() {
    const node = document.getElementById("batch-status");
    if (!node || !node.dataset.poll) return;
    const started = Date.now();
    (function tick() {
      fetch(node.dataset.poll, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((r) => r.json())
        .then((s) => {
          node.textContent = s.label || s.status;
          if (s.done) window.location.reload();
          else if (Date.now() - started < POLL_LIMIT_MS) window.setTimeout(tick, POLL_MS);
        })
        .catch(() => window.setTimeout(tick, POLL_MS * 3));
    })();
  }

  document.addEventListener("DOMContentLoaded", () => {
    setupUpload();
    setupResultRefresh();
  });
})();
