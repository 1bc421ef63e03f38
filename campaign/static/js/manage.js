// Organizers' pages, progressive enhancement only: every form works without this file.
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form && form.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  // The same folding as campaign.campaigns.services.slugify, to show what an empty
  // address field will become; the server decides (and adds -2, -3… if taken).
  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/['\u2019\u02bc]/g, "")
      .toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 74).replace(/-+$/, "");
  }

  function livePreview(textarea) {
    var region = document.getElementById(textarea.getAttribute("data-preview-target"));
    var url = textarea.getAttribute("data-preview-url");
    if (!region || !url || !window.fetch || !window.FormData) { return; }
    var timer = null;
    var sent = 0;
    var shown = 0;
    function refresh() {
      var body = new FormData();
      body.append("text", textarea.value);
      var number = ++sent;
      fetch(url, {method: "POST", body: body, credentials: "same-origin",
                  headers: {"X-CSRFToken": csrfToken(textarea.form), "Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          // An older answer arriving after a newer one must not replace it.
          if (!data || number <= shown) { return; }
          shown = number;
          // Sanitised by the server exactly as on the public page.
          region.innerHTML = data.html;
        })
        .catch(function () { /* the Preview button still works */ });
    }
    textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 350);
    });
    if (textarea.form) {
      textarea.form.querySelectorAll("button[name=preview]").forEach(function (button) {
        button.hidden = true;
      });
    }
  }

  function slugPlaceholder(input) {
    var source = document.getElementById(input.getAttribute("data-slug-from"));
    if (!source) { return; }
    function update() { input.placeholder = slugify(source.value); }
    source.addEventListener("input", update);
    update();
  }

  function guessTimezone(select) {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (error) { return; }
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === zone) { select.value = zone; return; }
    }
  }

  // The compose form's audience: recount as the organizer narrows it. The count shown
  // without this file is the one of the page as it was served.
  function liveAudienceCount(fieldset) {
    var url = fieldset.getAttribute("data-audience-count-url");
    var output = document.getElementById("audience-count");
    if (!url || !output || !window.fetch || !window.URLSearchParams) { return; }
    var timer = null;
    var sent = 0;
    var shown = 0;
    function refresh() {
      var query = new URLSearchParams();
      fieldset.querySelectorAll("select, input").forEach(function (field) {
        if (field.name) { query.append(field.name, field.value); }
      });
      var number = ++sent;
      fetch(url + "?" + query.toString(), {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) {
          if (response.status === 422) { return {label: ""}; }
          return response.ok ? response.json() : null;
        })
        .then(function (data) {
          if (!data || number <= shown) { return; }
          shown = number;
          output.textContent = data.label;
        })
        .catch(function () { /* saving the form counts again */ });
    }
    function later() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    }
    fieldset.addEventListener("change", later);
    fieldset.addEventListener("input", later);
  }

  // A mailing being sent: its figures every 2 seconds until it stops sending; then the
  // page is loaded again, for the buttons that fit its new status.
  function pollProgress(section) {
    var url = section.getAttribute("data-progress-url");
    var status = section.getAttribute("data-status");
    var bar = section.querySelector("progress");
    if (!url || status !== "sending" || !window.fetch) { return; }
    function poll() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { setTimeout(poll, 10000); return; }
          section.querySelectorAll("[data-progress]").forEach(function (element) {
            var value = data.labels[element.getAttribute("data-progress")];
            if (value !== undefined) { element.textContent = value; }
          });
          if (bar) {
            bar.max = data.total || 1;
            bar.value = data.total ? data.done : 1;
          }
          if (data.status !== status) { window.location.reload(); return; }
          setTimeout(poll, 2000);
        })
        .catch(function () { setTimeout(poll, 10000); });
    }
    setTimeout(poll, 2000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("fieldset[data-audience-count-url]").forEach(liveAudienceCount);
    document.querySelectorAll("[data-progress-url]").forEach(pollProgress);
    document.querySelectorAll("textarea[data-preview-target]").forEach(livePreview);
    document.querySelectorAll("input[data-slug-from]").forEach(slugPlaceholder);
    document.querySelectorAll("select[data-guess-timezone]").forEach(guessTimezone);
    document.querySelectorAll("button[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  });
}());
