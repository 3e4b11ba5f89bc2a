/*
 * The simulated LMS of `qtiexport preview`: scorm-again's Scorm12API as window.API (as
 * an LMS provides it), the case's SCO in an iframe, and a panel that shows after every
 * API call what the LMS now records. The buttons start a fresh attempt, leave and come
 * back (the SCO is taken away, so it finishes with exit=suspend, and relaunched with the
 * data the LMS saved) or reopen the attempt in review mode.
 *
 * Everything shown comes from the learner's answers and the SCO: it is written with
 * textContent, never as markup.
 */
(function () {
  "use strict";

  var METHODS = [
    "LMSInitialize", "LMSFinish", "LMSGetValue", "LMSSetValue", "LMSCommit",
    "LMSGetLastError", "LMSGetErrorString", "LMSGetDiagnostic"
  ];
  // Calls the panel lists; reading back values and errors would drown the rest.
  var LISTED = ["LMSInitialize", "LMSFinish", "LMSSetValue", "LMSCommit"];
  var MAX_LISTED_CALLS = 200;

  var config = JSON.parse(document.getElementById("lms-data").textContent);
  var state = { api: null, frame: null, calls: [], pending: false };

  function byId(id) {
    return document.getElementById(id);
  }

  /** A facade in front of the real API that records each call and redraws the panel. */
  function facade(api) {
    var front = {};
    METHODS.forEach(function (method) {
      front[method] = function () {
        var args = Array.prototype.slice.call(arguments).map(String);
        var result = String(api[method].apply(api, arguments));
        if (LISTED.indexOf(method) >= 0) {
          state.calls.push({
            method: method,
            args: args,
            result: result,
            error: String(api.LMSGetLastError())
          });
        }
        scheduleRedraw();
        return result;
      };
    });
    return front;
  }

  /** What the LMS holds now, as scorm-again's JSON form of the cmi data model. */
  function cmi() {
    return JSON.parse(JSON.stringify(state.api.renderCMIToJSONObject())).cmi;
  }

  function valueAt(data, element) {
    var value = data;
    element.split(".").slice(1).forEach(function (part) {
      value = value && typeof value === "object" ? value[part] : undefined;
    });
    return value === undefined || value === null ? "" : String(value);
  }

  // ------------------------------------------------------------------ launching

  function firstEntry() {
    var data = {
      core: {
        student_id: config.learner.student_id,
        student_name: config.learner.student_name,
        credit: "credit",
        lesson_mode: "normal",
        entry: "ab-initio"
      }
    };
    if (config.masteryScore !== null) {
      data.student_data = { mastery_score: String(config.masteryScore) };
    }
    return data;
  }

  /** What an LMS hands back on the next launch: the saved data of the last session. */
  function nextEntry(saved, mode) {
    var data = firstEntry();
    var core = saved.core || {};
    data.core.entry = core.exit === "suspend" ? "resume" : "";
    data.core.lesson_mode = mode;
    data.core.credit = mode === "review" ? "no-credit" : "credit";
    ["lesson_location", "lesson_status"].forEach(function (name) {
      if (core[name]) {
        data.core[name] = core[name];
      }
    });
    if (core.score && core.score.raw !== "") {
      data.core.score = core.score;
    }
    if (saved.suspend_data) {
      data.suspend_data = saved.suspend_data;
    }
    if (saved.interactions) {
      data.interactions = saved.interactions;
    }
    return data;
  }

  /** Take the SCO away, as an LMS does when the learner leaves: it finishes then. */
  function leave() {
    if (state.frame) {
      state.frame.remove();
      state.frame = null;
    }
  }

  function launch(initial, label) {
    leave();
    state.api = new window.Scorm12API({ logLevel: 5, autocommit: false });
    state.api.loadFromJSON(initial);
    state.calls = [];
    window.API = facade(state.api);
    var frame = document.createElement("iframe");
    frame.title = "The case, as the learner sees it";
    frame.src = config.sco;
    byId("lms-frame").appendChild(frame);
    state.frame = frame;
    byId("lms-attempt").textContent = label;
    redraw();
  }

  function reset() {
    launch(firstEntry(), "Fresh attempt");
  }

  function relaunch(mode, label) {
    leave();
    launch(nextEntry(cmi(), mode), label);
  }

  // ---------------------------------------------------------------------- panel

  function scheduleRedraw() {
    if (!state.pending) {
      state.pending = true;
      window.setTimeout(redraw, 0);
    }
  }

  function correctResponses(interaction) {
    var patterns = [];
    var responses = interaction.correct_responses || {};
    Object.keys(responses).forEach(function (key) {
      if (responses[key] && responses[key].pattern !== undefined) {
        patterns.push(String(responses[key].pattern));
      }
    });
    return patterns.join(" | ");
  }

  function redraw() {
    state.pending = false;
    var data = cmi();
    document.querySelectorAll("[data-element]").forEach(function (element) {
      element.textContent = valueAt(data, element.getAttribute("data-element"));
    });

    var interactions = data.interactions || {};
    var keys = Object.keys(interactions)
      .filter(function (key) { return /^\d+$/.test(key); })
      .sort(function (a, b) { return Number(a) - Number(b); });
    var list = byId("lms-interactions");
    var fields = list.getAttribute("data-fields").split(" ");
    list.textContent = "";
    keys.forEach(function (key) {
      var interaction = interactions[key];
      var item = document.createElement("li");
      item.setAttribute("data-interaction", key);
      var heading = document.createElement("p");
      heading.className = "lms-interaction-name";
      heading.textContent = "cmi.interactions." + key;
      item.appendChild(heading);
      var values = document.createElement("dl");
      fields.forEach(function (name) {
        var term = document.createElement("dt");
        term.textContent = name;
        var value = document.createElement("dd");
        value.setAttribute("data-field", name);
        value.textContent = name === "correct_responses"
          ? correctResponses(interaction)
          : valueAt(interaction, "." + name);
        values.appendChild(term);
        values.appendChild(value);
      });
      item.appendChild(values);
      list.appendChild(item);
    });
    byId("lms-interaction-count").textContent = "(" + keys.length + ")";
    byId("lms-suspend-data").textContent = data.suspend_data || "";

    var calls = byId("lms-calls");
    calls.textContent = "";
    state.calls.slice(-MAX_LISTED_CALLS).forEach(function (call) {
      var item = document.createElement("li");
      item.textContent =
        call.method + "(" + call.args.map(function (a) { return JSON.stringify(a); }).join(", ") +
        ") → " + call.result + (call.error !== "0" ? " (error " + call.error + ")" : "");
      if (call.error !== "0") {
        item.className = "lms-call-error";
      }
      calls.appendChild(item);
    });
  }

  // ---------------------------------------------------------------------- start

  byId("lms-reset").addEventListener("click", reset);
  byId("lms-resume").addEventListener("click", function () {
    relaunch("normal", "Resumed attempt");
  });
  byId("lms-review").addEventListener("click", function () {
    relaunch("review", "Review mode");
  });
  window.previewLms = { cmi: cmi, calls: function () { return state.calls.slice(); } };
  reset();
})();
