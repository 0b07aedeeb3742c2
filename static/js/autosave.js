/*
 * Autosave for the self-assessment page.
 *
 * The page works without this script (explicit "save" button). With it, every change posts the
 * whole form to the same URL with the header X-Autosave: 1; the server answers
 * {"revision": n, "saved_at": "HH:MM:SS"} (200), {"error", "errors"} (400) or {"error"} (409,
 * someone else changed the assessment: stop and ask for a reload).
 *
 * Nothing acknowledged is lost and nothing typed is lost: until the server acknowledges a change
 * the form is kept in localStorage under the form's data-storage-key together with the revision
 * it was based on; a reload restores it (and saves it) when that revision is still the server's.
 * Every text shown comes translated from the form's data-msg-* attributes.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 800;
  var BACKOFF_MS = [1000, 2000, 5000, 10000, 30000];

  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) {
    return;
  }
  var statusLine = document.getElementById("save-status");
  var revisionInput = form.querySelector('input[name="revision"]');
  var storageKey = form.dataset.storageKey;

  var timer = null; // the pending debounce or retry
  var attempt = 0; // failed attempts in a row (for the backoff)
  var dirty = false; // changes not yet sent
  var inFlight = null; // the running save (a promise)
  var stopped = false; // the page is stale (409): no more autosaving
  // One token per save, kept across its retries: if a try reached the server but its answer was
  // lost, the retry is recognised as the same save instead of being refused as stale.
  var saveToken = null;

  function newToken() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }
  var bypass = false; // the next submit event is our own, after waiting for a save

  function msg(name, time) {
    return (form.dataset["msg" + name] || "").replace("{time}", time || "");
  }

  function setStatus(text, kind) {
    if (!statusLine) {
      return;
    }
    statusLine.textContent = text;
    statusLine.className = "save-status" + (kind ? " is-" + kind : "");
  }

  // --- the local copy ---------------------------------------------------------------------------

  function snapshot() {
    var fields = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken" && name !== "revision" && typeof value === "string") {
        fields.push([name, value]);
      }
    });
    return fields;
  }

  function keep() {
    try {
      localStorage.setItem(
        storageKey,
        JSON.stringify({ revision: Number(revisionInput.value), at: Date.now(), fields: snapshot() })
      );
    } catch (e) {
      // Storage full or disabled: the server copy is all we have, as without this script.
    }
  }

  function forget() {
    try {
      localStorage.removeItem(storageKey);
    } catch (e) {
      // nothing to do
    }
  }

  function stored() {
    try {
      return JSON.parse(localStorage.getItem(storageKey) || "null");
    } catch (e) {
      return null;
    }
  }

  function restore(fields) {
    var values = {};
    fields.forEach(function (pair) {
      (values[pair[0]] = values[pair[0]] || []).push(pair[1]);
    });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.name === "revision") {
        return;
      }
      var given = values[el.name] || [];
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = given.indexOf(el.value) !== -1;
      } else if (el.tagName === "TEXTAREA" || el.type === "text") {
        el.value = given.length ? given[0] : "";
      }
    });
  }

  function resume() {
    var copy = stored();
    if (!copy || !Array.isArray(copy.fields)) {
      return;
    }
    // Older than what the server holds: the server moved on (saved elsewhere); do not overwrite.
    if (Number(copy.revision) < Number(revisionInput.value)) {
      forget();
      return;
    }
    if (JSON.stringify(copy.fields) === JSON.stringify(snapshot())) {
      forget();
      return;
    }
    restore(copy.fields);
    setStatus(msg("Restored"));
    dirty = true;
    schedule(DEBOUNCE_MS);
  }

  // --- field errors -----------------------------------------------------------------------------

  function clearErrors() {
    form.querySelectorAll("[data-error-for]").forEach(function (box) {
      box.textContent = "";
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
    });
  }

  function showErrors(errors) {
    clearErrors();
    Object.keys(errors).forEach(function (name) {
      var selector = CSS.escape(name);
      var box = form.querySelector('[data-error-for="' + selector + '"]');
      if (box) {
        box.textContent = errors[name].join(" ");
      }
      form.querySelectorAll('[name="' + selector + '"]').forEach(function (el) {
        el.setAttribute("aria-invalid", "true");
      });
    });
  }

  // --- saving -----------------------------------------------------------------------------------

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(save, delay);
  }

  function retryLater(text) {
    dirty = true;
    keep();
    setStatus(text, "error");
    schedule(BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]);
    attempt += 1;
  }

  function save() {
    clearTimeout(timer);
    timer = null;
    if (stopped || (!dirty && !inFlight)) {
      return Promise.resolve();
    }
    if (inFlight) {
      return inFlight.then(function () {
        return dirty ? save() : undefined;
      });
    }
    dirty = false;
    setStatus(msg("Saving"));
    saveToken = saveToken || newToken();
    var body = new FormData(form);
    body.set("save_token", saveToken);
    inFlight = fetch(form.action, {
      method: "POST",
      body: body,
      headers: { "X-Autosave": "1", Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(answered, function () {
        retryLater(msg("Offline"));
      })
      .finally(function () {
        inFlight = null;
      });
    return inFlight;
  }

  function answered(response) {
    var type = response.headers.get("Content-Type") || "";
    var body = type.indexOf("application/json") !== -1 ? response.json() : Promise.resolve(null);
    return body
      .catch(function () {
        return null;
      })
      .then(function (data) {
        saveToken = null; // the server answered: the next save is a new one
        if (response.ok && data && data.revision !== undefined) {
          return saved(data);
        }
        if (response.status === 409) {
          stopped = true;
          forget();
          setStatus((data && data.error) || msg("Stale"), "stale");
          return undefined;
        }
        if (response.status === 400 && data) {
          var errors = data.errors || {};
          if (!Object.keys(errors).length) {
            stopped = true; // refused as a whole (submitted meanwhile, cycle closed): stop
            forget();
            setStatus(data.error, "stale");
            return undefined;
          }
          showErrors(errors);
          setStatus(msg("Invalid"), "error");
          if (dirty) {
            schedule(DEBOUNCE_MS);
          }
          return undefined;
        }
        retryLater(msg("Failed"));
        return undefined;
      });
  }

  function saved(data) {
    revisionInput.value = data.revision;
    attempt = 0;
    clearErrors();
    if (dirty) {
      keep(); // typed while the save ran: keep it against the new revision, save again soon
      setStatus(msg("Pending"));
      schedule(DEBOUNCE_MS);
    } else {
      forget();
      setStatus(msg("Saved", data.saved_at), "saved");
    }
  }

  function edited(event) {
    if (stopped || !event.target || event.target.form !== form) {
      return; // a file input belongs to its upload form, not to this one
    }
    dirty = true;
    keep();
    if (!inFlight) {
      setStatus(msg("Pending"));
    }
    schedule(DEBOUNCE_MS);
  }

  form.addEventListener("input", edited);
  form.addEventListener("change", edited);

  window.addEventListener("online", function () {
    if (dirty && !stopped) {
      attempt = 0;
      save();
    }
  });

  // The explicit buttons post the whole form: ask before submitting, and wait for a running save
  // so the posted revision is the current one.
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (bypass) {
      bypass = false;
      return;
    }
    if (submitter && submitter.hasAttribute("data-confirm")) {
      if (!window.confirm(msg("ConfirmSubmit"))) {
        event.preventDefault();
        return;
      }
    }
    clearTimeout(timer);
    timer = null;
    if (inFlight) {
      event.preventDefault();
      inFlight.finally(function () {
        bypass = true;
        form.requestSubmit(submitter);
      });
    }
  });

  // Upload and delete leave the page: save what was typed first.
  document.addEventListener("submit", function (event) {
    var target = event.target;
    if (target === form || !target.hasAttribute("data-flush-autosave")) {
      return;
    }
    if (stopped || (!dirty && !inFlight)) {
      return;
    }
    event.preventDefault();
    save().finally(function () {
      target.submit();
    });
  });

  resume();
})();
