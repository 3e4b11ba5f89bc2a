/*
 * The case player: one question at a time, feedback, result, image viewer, and
 * tracking through the SCORM 1.2 run-time API of the LMS.
 *
 * Author text reaches this script only from the inline JSON (#player-data) and is put
 * into the page with textContent or as attribute values, never as markup; the markup
 * of the page itself was rendered and escaped on the server.
 *
 * Saved state (cmi.suspend_data) is {"v":1,"r":[...]}: one string per answered
 * question, in order ("a", "ace", "t"/"f", or the typed text). The build tool proves
 * with the same rule (qtiexport/tracking.py) that it fits SCORM 1.2's 4096 characters.
 */
(function () {
  "use strict";

  var MAX_PARENT_HOPS = 10;
  var MIN_ZOOM = 1;
  var MAX_ZOOM = 8;
  var ZOOM_STEP = 1.25;
  var PAN_STEP = 0.1; // of the stage size, per arrow key press
  var TRUE_FALSE = { "true": "t", "false": "f" };
  var FINAL_STATUSES = ["passed", "failed", "completed"];

  // ------------------------------------------------------------------ helpers

  function byId(id) {
    return document.getElementById(id);
  }

  function pad(number, width) {
    var text = String(number);
    while (text.length < width) {
      text = "0" + text;
    }
    return text;
  }

  /** SCORM 1.2 CMITimespan: HHHH:MM:SS.SS */
  function cmiTimespan(milliseconds) {
    var centiseconds = Math.max(0, Math.round(milliseconds / 10));
    var hours = Math.floor(centiseconds / 360000);
    var minutes = Math.floor((centiseconds % 360000) / 6000);
    var seconds = Math.floor((centiseconds % 6000) / 100);
    var fraction = centiseconds % 100;
    return pad(Math.min(hours, 9999), 4) + ":" + pad(minutes, 2) + ":" + pad(seconds, 2) + "." +
      pad(fraction, 2);
  }

  /** SCORM 1.2 CMITime: HH:MM:SS, the learner's local clock */
  function cmiTime(date) {
    return pad(date.getHours(), 2) + ":" + pad(date.getMinutes(), 2) + ":" +
      pad(date.getSeconds(), 2);
  }

  /** A CMIDecimal with at most two decimals and no trailing zeros. */
  function decimal(value) {
    var rounded = Math.round(value * 100) / 100;
    return String(rounded);
  }

  /** Typed answers are compared trimmed, NFC and in lower case, as scorm.py prepares them. */
  function normaliseAnswer(text) {
    var value = text.trim();
    if (value.normalize) {
      value = value.normalize("NFC");
    }
    return value.toLowerCase();
  }

  /** Control characters are dropped so that saved text never grows past twice its length. */
  function cleanTypedText(text, maxLength) {
    return text.replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, maxLength);
  }

  function readPlayerData() {
    var element = byId("player-data");
    return JSON.parse(element.textContent);
  }

  var announceTimer = null;

  /** Tell screen reader users what changed, through the polite live region. */
  function announce(message) {
    var region = byId("announcer");
    region.textContent = "";
    window.clearTimeout(announceTimer);
    announceTimer = window.setTimeout(function () {
      region.textContent = message;
    }, 50);
  }

  function plural(count, word) {
    return count + " " + word + (count === 1 ? "" : "s");
  }

  // ------------------------------------------------------------ SCORM 1.2 API

  /** The LMS's API object: this window and its parents, then the opener and its parents. */
  function findApi() {
    function search(start) {
      var win = start;
      for (var hops = 0; win && hops <= MAX_PARENT_HOPS; hops += 1) {
        try {
          if (win.API && typeof win.API.LMSInitialize === "function") {
            return win.API;
          }
        } catch (error) {
          // A frame of another origin: it cannot be the API's, so look further up.
        }
        var parent = null;
        try {
          parent = win.parent;
        } catch (error) {
          return null;
        }
        if (!parent || parent === win) {
          return null;
        }
        win = parent;
      }
      return null;
    }
    var api = search(window);
    if (!api) {
      try {
        if (window.opener) {
          api = search(window.opener);
        }
      } catch (error) {
        api = null;
      }
    }
    return api;
  }

  /**
   * Every call goes through call(), which asks LMSGetLastError afterwards. A refused
   * value is reported once on the page and the learner carries on: tracking problems
   * never block the case.
   */
  function Tracker(api, onProblem) {
    this.api = api;
    this.onProblem = onProblem;
    this.started = false;
    this.finished = false;
    this.startedAt = Date.now();
  }

  Tracker.prototype.call = function (method, args, quiet) {
    var value = "";
    try {
      value = String(this.api[method].apply(this.api, args));
    } catch (error) {
      this.problem(method, args, "the platform raised " + (error && error.name), quiet);
      return { value: "", ok: false };
    }
    var code = "0";
    try {
      code = String(this.api.LMSGetLastError());
    } catch (error) {
      code = "0";
    }
    if (code !== "0" && code !== "") {
      var text = "";
      try {
        text = String(this.api.LMSGetErrorString(code));
      } catch (error) {
        text = "";
      }
      this.problem(method, args, "error " + code + (text ? ": " + text : ""), quiet);
      return { value: value, ok: false };
    }
    return { value: value, ok: value !== "false" };
  };

  Tracker.prototype.problem = function (method, args, detail, quiet) {
    if (window.console && window.console.warn) {
      window.console.warn("SCORM " + method + "(" + args.join(", ") + ") failed: " + detail);
    }
    if (!quiet) {
      this.onProblem(detail);
    }
  };

  Tracker.prototype.start = function () {
    this.started = this.call("LMSInitialize", [""]).ok;
    this.startedAt = Date.now();
    return this.started;
  };

  /** Optional elements may be unsupported by an LMS: a failed read is just empty. */
  Tracker.prototype.get = function (element) {
    var result = this.call("LMSGetValue", [element], true);
    return result.ok ? result.value : "";
  };

  Tracker.prototype.set = function (element, value) {
    return this.call("LMSSetValue", [element, String(value)]).ok;
  };

  Tracker.prototype.commit = function () {
    return this.call("LMSCommit", [""]).ok;
  };

  /** LMSFinish exactly once, with the session time, whatever calls it first. */
  Tracker.prototype.finish = function () {
    if (!this.started || this.finished) {
      return;
    }
    this.finished = true;
    this.set("cmi.core.session_time", cmiTimespan(Date.now() - this.startedAt));
    this.call("LMSFinish", [""]);
  };

  // ----------------------------------------------------------------- scoring

  function Question(spec, article) {
    this.spec = spec;
    this.article = article;
    this.form = article.querySelector(".answer-form");
    this.fieldset = article.querySelector("fieldset");
    this.textInput = article.querySelector("input[type=text]");
    this.feedback = article.querySelector(".feedback");
    this.nextButton = article.querySelector(".next-button");
    this.heading = article.querySelector(".question-heading");
    this.error = article.querySelector(".form-error");
    this.choiceInputs = Array.prototype.slice.call(
      article.querySelectorAll("input[type=radio], input[type=checkbox]")
    );
    this.shownAt = null;
  }

  /** The chosen keys as a state code ("ace", "t"), "" when nothing is chosen. */
  Question.prototype.readCode = function () {
    if (this.spec.type === "text") {
      return cleanTypedText(this.textInput.value, this.spec.maxLength);
    }
    var keys = this.choiceInputs
      .filter(function (input) {
        return input.checked;
      })
      .map(function (input) {
        return input.value;
      });
    return this.codeOf(keys);
  };

  Question.prototype.codeOf = function (keys) {
    if (this.spec.type === "true_false") {
      return keys.map(function (key) {
        return TRUE_FALSE[key];
      }).join("");
    }
    return keys.slice().sort().join("");
  };

  /** The choice keys a state code stands for. */
  Question.prototype.keysOf = function (code) {
    if (this.spec.type === "true_false") {
      return code === "t" ? ["true"] : code === "f" ? ["false"] : [];
    }
    return code.split("");
  };

  /** Whether a saved code is one this question could have produced. */
  Question.prototype.accepts = function (code) {
    if (typeof code !== "string" || code === "") {
      return false;
    }
    if (this.spec.type === "text") {
      return code.length <= this.spec.maxLength && code === cleanTypedText(code, this.spec.maxLength);
    }
    if (this.spec.type === "true_false") {
      return code === "t" || code === "f";
    }
    var keys = this.choiceInputs.map(function (input) {
      return input.value;
    });
    var chosen = code.split("");
    if (this.spec.type === "single" && chosen.length !== 1) {
      return false;
    }
    return chosen.every(function (key, index) {
      return keys.indexOf(key) >= 0 && (index === 0 || chosen[index - 1] < key);
    });
  };

  Question.prototype.points = function (code) {
    var spec = this.spec;
    if (spec.type === "text") {
      return spec.accepted.indexOf(normaliseAnswer(code)) >= 0 ? spec.points : 0;
    }
    if (spec.choiceValues) {
      var sum = 0;
      code.split("").forEach(function (key) {
        sum += spec.choiceValues[key] || 0;
      });
      return Math.min(spec.points, Math.max(0, sum));
    }
    return code === spec.correct ? spec.points : 0;
  };

  /** cmi.interactions.n.student_response in SCORM 1.2's format for the type. */
  Question.prototype.studentResponse = function (code) {
    if (this.spec.type === "multiple") {
      return code.split("").join(",");
    }
    return code;
  };

  /** Shuffle the choices that are not fixed, keeping fixed ones where they are. */
  Question.prototype.shuffle = function (fixedKeys) {
    var fieldset = this.fieldset;
    var choices = Array.prototype.slice.call(fieldset.querySelectorAll(".choice"));
    var movable = choices.filter(function (choice) {
      return fixedKeys.indexOf(choice.getAttribute("data-key")) < 0;
    });
    var order = movable.slice();
    for (var i = order.length - 1; i > 0; i -= 1) {
      var j = Math.floor(Math.random() * (i + 1));
      var swap = order[i];
      order[i] = order[j];
      order[j] = swap;
    }
    var placeholders = movable.map(function (choice) {
      var marker = document.createComment("choice");
      fieldset.replaceChild(marker, choice);
      return marker;
    });
    placeholders.forEach(function (marker, index) {
      fieldset.replaceChild(order[index], marker);
    });
  };

  // ------------------------------------------------------------------ viewer

  function Viewer(dialog, images) {
    this.dialog = dialog;
    this.images = images;
    this.stage = byId("viewer-stage");
    this.image = byId("viewer-image");
    this.title = byId("viewer-title");
    this.zoomOutput = byId("viewer-zoom");
    this.annotationsButton = dialog.querySelector("[data-action=annotations]");
    this.current = null;
    this.showingAnnotations = false;
    this.opener = null;
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.pointers = {};
    this.gesture = null;
    this.bind();
  }

  Viewer.prototype.bind = function () {
    var viewer = this;
    this.dialog.addEventListener("click", function (event) {
      var button = event.target.closest("[data-action]");
      if (!button) {
        return;
      }
      var action = button.getAttribute("data-action");
      if (action === "zoom-in") {
        viewer.zoomBy(ZOOM_STEP);
      } else if (action === "zoom-out") {
        viewer.zoomBy(1 / ZOOM_STEP);
      } else if (action === "reset") {
        viewer.reset();
      } else if (action === "annotations") {
        viewer.toggleAnnotations();
      } else if (action === "close") {
        viewer.dialog.close();
      }
    });
    this.dialog.addEventListener("keydown", function (event) {
      viewer.onKey(event);
    });
    this.dialog.addEventListener("close", function () {
      viewer.image.removeAttribute("src");
      if (viewer.opener && document.contains(viewer.opener)) {
        viewer.opener.focus();
      }
    });
    this.stage.addEventListener("wheel", function (event) {
      event.preventDefault();
      var factor = Math.exp(-event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.0015));
      viewer.zoomBy(factor, viewer.stagePoint(event));
    }, { passive: false });
    this.stage.addEventListener("dblclick", function (event) {
      if (viewer.scale > MIN_ZOOM) {
        viewer.reset();
      } else {
        viewer.zoomBy(2.5, viewer.stagePoint(event));
      }
    });
    this.stage.addEventListener("pointerdown", function (event) {
      viewer.onPointerDown(event);
    });
    this.stage.addEventListener("pointermove", function (event) {
      viewer.onPointerMove(event);
    });
    ["pointerup", "pointercancel", "lostpointercapture"].forEach(function (type) {
      viewer.stage.addEventListener(type, function (event) {
        viewer.onPointerUp(event);
      });
    });
    window.addEventListener("resize", function () {
      if (viewer.dialog.open) {
        viewer.apply();
      }
    });
  };

  Viewer.prototype.open = function (imageId, opener) {
    var entry = this.images[imageId];
    if (!entry) {
      return;
    }
    this.current = entry;
    this.opener = opener;
    this.showingAnnotations = false;
    this.title.textContent = entry.caption + (entry.modality ? " (" + entry.modality + ")" : "");
    this.stage.setAttribute("aria-label", "Zoomable image: " + entry.caption);
    this.annotationsButton.hidden = !entry.annotated;
    this.annotationsButton.setAttribute("aria-pressed", "false");
    this.show(entry);
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    if (typeof this.dialog.showModal === "function") {
      this.dialog.showModal();
    } else {
      this.dialog.setAttribute("open", "");
    }
    this.apply();
    this.stage.focus();
  };

  Viewer.prototype.show = function (version) {
    this.image.src = version.src;
    this.image.alt = version.alt;
    this.image.width = version.width;
    this.image.height = version.height;
  };

  Viewer.prototype.toggleAnnotations = function () {
    if (!this.current || !this.current.annotated) {
      return;
    }
    this.showingAnnotations = !this.showingAnnotations;
    this.show(this.showingAnnotations ? this.current.annotated : this.current);
    this.annotationsButton.setAttribute("aria-pressed", String(this.showingAnnotations));
    announce(this.showingAnnotations ? "Annotations shown" : "Annotations hidden");
  };

  Viewer.prototype.onKey = function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var key = event.key;
    var stageWidth = this.stage.clientWidth;
    var stageHeight = this.stage.clientHeight;
    var handled = true;
    if (key === "+" || key === "=" || key === "Add") {
      this.zoomBy(ZOOM_STEP);
    } else if (key === "-" || key === "_" || key === "Subtract" || key === "\u2212") {
      this.zoomBy(1 / ZOOM_STEP);
    } else if (key === "0") {
      this.reset();
    } else if (key === "ArrowLeft") {
      this.panBy(stageWidth * PAN_STEP, 0);
    } else if (key === "ArrowRight") {
      this.panBy(-stageWidth * PAN_STEP, 0);
    } else if (key === "ArrowUp") {
      this.panBy(0, stageHeight * PAN_STEP);
    } else if (key === "ArrowDown") {
      this.panBy(0, -stageHeight * PAN_STEP);
    } else if ((key === "a" || key === "A") && this.current && this.current.annotated) {
      this.toggleAnnotations();
    } else {
      handled = false; // Esc closes the dialog natively; Tab moves between the tools.
    }
    if (handled) {
      event.preventDefault();
    }
  };

  /** A pointer position relative to the stage's centre. */
  Viewer.prototype.stagePoint = function (event) {
    var box = this.stage.getBoundingClientRect();
    return {
      x: event.clientX - box.left - box.width / 2,
      y: event.clientY - box.top - box.height / 2
    };
  };

  /** Zoom about a point of the stage (its centre by default), keeping that point still. */
  Viewer.prototype.zoomBy = function (factor, point) {
    var target = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.scale * factor));
    var at = point || { x: 0, y: 0 };
    var ratio = target / this.scale;
    this.x = at.x - (at.x - this.x) * ratio;
    this.y = at.y - (at.y - this.y) * ratio;
    this.scale = target;
    this.apply();
  };

  Viewer.prototype.panBy = function (dx, dy) {
    this.x += dx;
    this.y += dy;
    this.apply();
  };

  Viewer.prototype.reset = function () {
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.apply();
  };

  /** Keep the image over the stage: it may not be dragged out of sight. */
  Viewer.prototype.apply = function () {
    var limitX = Math.max(0, (this.image.offsetWidth * this.scale - this.stage.clientWidth) / 2);
    var limitY = Math.max(0, (this.image.offsetHeight * this.scale - this.stage.clientHeight) / 2);
    this.x = Math.min(limitX, Math.max(-limitX, this.x));
    this.y = Math.min(limitY, Math.max(-limitY, this.y));
    this.image.style.transform = "translate(" + this.x + "px, " + this.y + "px) scale(" +
      this.scale + ")";
    this.zoomOutput.textContent = Math.round(this.scale * 100) + "%";
  };

  Viewer.prototype.onPointerDown = function (event) {
    if (event.button !== undefined && event.button > 0) {
      return;
    }
    this.stage.setPointerCapture(event.pointerId);
    this.pointers[event.pointerId] = { x: event.clientX, y: event.clientY };
    this.gesture = null;
    this.stage.classList.add("is-dragging");
  };

  Viewer.prototype.onPointerMove = function (event) {
    var previous = this.pointers[event.pointerId];
    if (!previous) {
      return;
    }
    var ids = Object.keys(this.pointers);
    if (ids.length === 1) {
      this.panBy(event.clientX - previous.x, event.clientY - previous.y);
    } else if (ids.length === 2) {
      var other = this.pointers[ids[0] === String(event.pointerId) ? ids[1] : ids[0]];
      var distance = Math.hypot(event.clientX - other.x, event.clientY - other.y);
      var middle = this.stagePoint({
        clientX: (event.clientX + other.x) / 2,
        clientY: (event.clientY + other.y) / 2
      });
      if (this.gesture) {
        this.zoomBy(distance / this.gesture.distance, middle);
        this.panBy(middle.x - this.gesture.middle.x, middle.y - this.gesture.middle.y);
      }
      this.gesture = { distance: distance || 1, middle: middle };
    }
    this.pointers[event.pointerId] = { x: event.clientX, y: event.clientY };
  };

  Viewer.prototype.onPointerUp = function (event) {
    delete this.pointers[event.pointerId];
    this.gesture = null;
    if (Object.keys(this.pointers).length === 0) {
      this.stage.classList.remove("is-dragging");
    }
  };

  // ------------------------------------------------------------------ player

  function Player(data) {
    var player = this;
    this.data = data;
    this.questions = data.questions.map(function (spec, index) {
      return new Question(spec, byId("question-" + (index + 1)));
    });
    this.responses = [];
    this.earned = [];
    this.tracker = null;
    this.recording = false;
    this.interactionBase = 0;
    this.interactionsWritten = 0;
    this.masteryScore = data.masteryScore;
    this.lmsStatus = "";
    this.problemShown = false;
    var dialog = byId("viewer");
    this.viewer = dialog ? new Viewer(dialog, data.images) : null;

    document.addEventListener("click", function (event) {
      var thumb = event.target.closest(".thumb");
      if (thumb && player.viewer) {
        player.viewer.open(thumb.getAttribute("data-image"), thumb);
      }
    });
    this.questions.forEach(function (question, index) {
      question.form.addEventListener("submit", function (event) {
        event.preventDefault();
        player.submit(index);
      });
      question.nextButton.addEventListener("click", function () {
        player.next(index);
      });
      question.form.addEventListener("change", function () {
        question.error.hidden = true;
      });
      if (question.spec.shuffle && question.fieldset) {
        question.shuffle(question.spec.fixed || []);
      }
    });
    // Whatever way the page goes away, the LMS hears LMSFinish once. The unload listener
    // also keeps the page out of the back/forward cache, where it would come back
    // finished and silently record nothing.
    window.addEventListener("pagehide", function () {
      player.leave();
    });
    window.addEventListener("unload", function () {
      player.leave();
    });
  }

  Player.prototype.start = function () {
    byId("notice-script").hidden = true;
    var api = findApi();
    var saved = null;
    if (!api) {
      byId("notice-standalone").hidden = false;
    } else {
      var player = this;
      this.tracker = new Tracker(api, function (detail) {
        player.reportProblem(detail);
      });
      if (!this.tracker.start()) {
        this.tracker = null;
        byId("notice-standalone").hidden = false;
      } else {
        saved = this.connect();
      }
    }
    var restored = this.restore(saved);
    var finalStatus = FINAL_STATUSES.indexOf(this.lmsStatus) >= 0;
    if (this.tracker && this.recording && restored === this.questions.length && !finalStatus) {
      // Every answer was saved but the result never reached the LMS: report it now.
      this.reportResult();
      this.tracker.commit();
    }
    if (restored < this.questions.length) {
      this.showQuestion(restored);
    } else {
      this.showResult(false);
    }
  };

  /** Read what the LMS knows, set the attempt going, and return the saved answers. */
  Player.prototype.connect = function () {
    var tracker = this.tracker;
    var entry = tracker.get("cmi.core.entry");
    var mode = tracker.get("cmi.core.lesson_mode");
    var status = tracker.get("cmi.core.lesson_status");
    this.lmsStatus = status;
    var lmsMastery = tracker.get("cmi.student_data.mastery_score");
    var suspendData = tracker.get("cmi.suspend_data");
    var mastery = parseFloat(lmsMastery);
    if (lmsMastery !== "" && isFinite(mastery)) {
      this.masteryScore = mastery;
    }
    this.recording = mode !== "browse" && mode !== "review";
    if (!this.recording) {
      byId("notice-review").hidden = false;
    }
    var saved = null;
    if (entry !== "ab-initio" && suspendData) {
      saved = this.parseState(suspendData);
    }
    if (this.recording) {
      this.interactionBase = parseInt(tracker.get("cmi.interactions._count"), 10) || 0;
      var answered = saved ? saved.length : 0;
      if (answered < this.questions.length) {
        if (FINAL_STATUSES.indexOf(status) < 0) {
          tracker.set("cmi.core.lesson_status", "incomplete");
        }
        // "suspend" asks the LMS to hand the saved state back next time (entry=resume).
        tracker.set("cmi.core.exit", "suspend");
        tracker.set("cmi.core.lesson_location", this.questions[answered].spec.id);
      }
      tracker.commit();
    }
    return saved;
  };

  /** The saved responses that still fit the questions, in order; null if none. */
  Player.prototype.parseState = function (text) {
    var state;
    try {
      state = JSON.parse(text);
    } catch (error) {
      return null;
    }
    if (!state || state.v !== this.data.stateVersion || !Array.isArray(state.r)) {
      return null;
    }
    var valid = [];
    for (var i = 0; i < state.r.length && i < this.questions.length; i += 1) {
      if (!this.questions[i].accepts(state.r[i])) {
        break;
      }
      valid.push(state.r[i]);
    }
    return valid;
  };

  /** Show the saved answers, locked; returns how many there were. */
  Player.prototype.restore = function (saved) {
    var player = this;
    (saved || []).forEach(function (code, index) {
      player.lock(index, code);
    });
    return this.responses.length;
  };

  Player.prototype.reportProblem = function (detail) {
    if (this.problemShown) {
      return;
    }
    this.problemShown = true;
    byId("notice-problem-detail").textContent = detail;
    byId("notice-problem").hidden = false;
  };

  Player.prototype.progressText = function (text) {
    var mark = this.masteryScore === null || this.masteryScore === undefined
      ? ""
      : " · pass mark " + decimal(this.masteryScore) + "%";
    byId("progress").textContent = text + mark;
    // The tab or window title follows progress too; the case title is text, never markup.
    document.title = text + " – " + this.data.caseTitle;
  };

  Player.prototype.showQuestion = function (index) {
    var question = this.questions[index];
    question.article.hidden = false;
    question.shownAt = Date.now();
    this.progressText("Question " + (index + 1) + " of " + this.questions.length);
  };

  Player.prototype.submit = function (index) {
    var question = this.questions[index];
    if (index !== this.responses.length) {
      return; // already answered: the form is locked
    }
    var code = question.readCode();
    if (code === "") {
      question.error.textContent = question.spec.type === "text"
        ? "Type an answer first."
        : "Choose an answer first.";
      question.error.hidden = false;
      (question.textInput || question.choiceInputs[0]).focus();
      return;
    }
    var answeredAt = new Date();
    this.lock(index, code);
    this.track(index, code, answeredAt);
    question.nextButton.hidden = false;
    question.feedback.focus();
    announce(question.heading.textContent + ": " + byId(question.article.id + "-verdict").textContent);
  };

  /** Record the answer, lock the question and show its feedback. */
  Player.prototype.lock = function (index, code) {
    var question = this.questions[index];
    var spec = question.spec;
    var points = question.points(code);
    var correct = points >= spec.points - 1e-9;
    this.responses[index] = code;
    this.earned[index] = points;
    question.article.hidden = false;
    question.article.classList.add("answered");
    question.error.hidden = true;

    if (spec.type === "text") {
      question.textInput.value = code;
      question.textInput.disabled = true;
      var mark = byId(question.article.id + "-text-mark");
      mark.textContent = correct ? "✓ Accepted" : "✗ Not accepted";
      mark.className = "text-verdict " + (correct ? "is-correct" : "is-wrong");
      mark.hidden = false;
    } else {
      var chosen = question.keysOf(code);
      var right = question.keysOf(spec.correct);
      question.choiceInputs.forEach(function (input) {
        var key = input.value;
        var choice = input.closest(".choice");
        var markText = "";
        input.checked = chosen.indexOf(key) >= 0;
        if (input.checked && right.indexOf(key) >= 0) {
          choice.classList.add("is-correct");
          markText = "✓ your answer, correct";
        } else if (input.checked) {
          choice.classList.add("is-wrong");
          markText = "✗ your answer, incorrect";
        } else if (right.indexOf(key) >= 0) {
          choice.classList.add("is-correct");
          markText = "✓ correct answer";
        }
        var markElement = choice.querySelector(".choice-mark");
        markElement.textContent = markText ? "(" + markText + ")" : "";
        markElement.hidden = !markText;
      });
      question.fieldset.disabled = true;
    }

    var verdict = byId(question.article.id + "-verdict");
    if (correct) {
      verdict.textContent = "✓ Correct";
    } else if (points > 0) {
      verdict.textContent = "Partly correct: " + decimal(points) + " of " +
        plural(spec.points, "point");
    } else {
      verdict.textContent = "✗ Incorrect";
    }
    question.feedback.classList.add(correct ? "is-correct" : "is-wrong");
    Array.prototype.forEach.call(question.feedback.querySelectorAll("[data-when]"), function (block) {
      block.hidden = block.getAttribute("data-when") !== (correct ? "correct" : "incorrect");
    });
    var chosenKeys = spec.type === "text" ? [] : question.keysOf(code);
    Array.prototype.forEach.call(question.feedback.querySelectorAll("[data-choice]"), function (block) {
      block.hidden = chosenKeys.indexOf(block.getAttribute("data-choice")) < 0;
    });
    question.feedback.hidden = false;
  };

  Player.prototype.percent = function () {
    var earned = this.earned.reduce(function (sum, value) {
      return sum + value;
    }, 0);
    return this.data.maxPoints > 0 ? (earned / this.data.maxPoints) * 100 : 0;
  };

  Player.prototype.outcome = function () {
    if (this.masteryScore === null || this.masteryScore === undefined) {
      return "completed";
    }
    return Math.round(this.percent() * 100) / 100 >= this.masteryScore ? "passed" : "failed";
  };

  /** Tell the LMS about one answer; LMSFinish once the last one is in. */
  Player.prototype.track = function (index, code, answeredAt) {
    var tracker = this.tracker;
    if (!tracker || !this.recording || tracker.finished) {
      return;
    }
    var question = this.questions[index];
    var spec = question.spec;
    var correct = this.earned[index] >= spec.points - 1e-9;
    // Interactions are a journal: this session's answers follow the ones the LMS holds.
    var prefix = "cmi.interactions." + (this.interactionBase + this.interactionsWritten) + ".";
    this.interactionsWritten += 1;
    tracker.set(prefix + "id", spec.interactionId);
    tracker.set(prefix + "type", spec.interactionType);
    tracker.set(prefix + "student_response", question.studentResponse(code));
    tracker.set(prefix + "correct_responses.0.pattern", spec.correctPattern);
    tracker.set(prefix + "result", correct ? "correct" : "wrong");
    tracker.set(prefix + "weighting", spec.weighting);
    tracker.set(prefix + "latency", cmiTimespan(answeredAt.getTime() - (question.shownAt || answeredAt.getTime())));
    tracker.set(prefix + "time", cmiTime(answeredAt));

    var done = this.responses.length === this.questions.length;
    tracker.set("cmi.suspend_data", JSON.stringify({ v: this.data.stateVersion, r: this.responses }));
    tracker.set("cmi.core.lesson_location", done ? "result" : this.questions[index + 1].spec.id);
    if (done) {
      this.reportResult();
    }
    tracker.commit();
    if (done) {
      tracker.finish();
    }
  };

  /**
   * Score and status, once every question is answered. Not before: SCORM 1.2 lets an LMS
   * turn any reported score below the mastery score into "failed", which a half-done
   * case is not.
   */
  Player.prototype.reportResult = function () {
    var tracker = this.tracker;
    tracker.set("cmi.core.score.raw", decimal(this.percent()));
    tracker.set("cmi.core.score.min", "0");
    tracker.set("cmi.core.score.max", "100");
    tracker.set("cmi.core.lesson_status", this.outcome());
    tracker.set("cmi.core.exit", "");
  };

  Player.prototype.next = function (index) {
    var question = this.questions[index];
    question.nextButton.hidden = true;
    if (index + 1 < this.questions.length) {
      this.showQuestion(index + 1);
      var following = this.questions[index + 1];
      following.heading.focus();
      announce(following.heading.textContent);
    } else {
      this.showResult(true);
    }
  };

  Player.prototype.showResult = function (moveFocus) {
    var percent = Math.round(this.percent() * 100) / 100;
    var earned = this.earned.reduce(function (sum, value) {
      return sum + value;
    }, 0);
    byId("result-score").textContent = "Your score: " + decimal(percent) + "% (" +
      decimal(earned) + " of " + plural(this.data.maxPoints, "point") + ")";
    var outcome = this.outcome();
    var outcomeElement = byId("result-outcome");
    if (outcome === "completed") {
      outcomeElement.textContent = "Completed";
    } else if (outcome === "passed") {
      outcomeElement.textContent = "✓ Passed (pass mark " + decimal(this.masteryScore) + "%)";
      outcomeElement.classList.add("is-correct");
    } else {
      outcomeElement.textContent = "✗ Not passed (pass mark " + decimal(this.masteryScore) + "%)";
      outcomeElement.classList.add("is-wrong");
    }
    var list = byId("result-list");
    list.textContent = "";
    var player = this;
    this.questions.forEach(function (question, index) {
      var item = document.createElement("li");
      var points = player.earned[index];
      var verdict = points >= question.spec.points - 1e-9
        ? "correct"
        : points > 0 ? "partly correct" : "incorrect";
      item.textContent = "Question " + (index + 1) + ": " + verdict + " (" + decimal(points) +
        " of " + plural(question.spec.points, "point") + ")";
      list.appendChild(item);
    });
    byId("results").hidden = false;
    var teaching = byId("teaching");
    if (teaching) {
      teaching.hidden = false;
    }
    this.progressText("All " + plural(this.questions.length, "question") + " answered");
    if (moveFocus) {
      byId("results-heading").focus();
      announce(byId("result-score").textContent + ". " + outcomeElement.textContent);
    }
  };

  Player.prototype.leave = function () {
    if (this.tracker) {
      this.tracker.finish();
    }
  };

  var player = new Player(readPlayerData());
  player.start();
  // For the test LMS and for authors poking at the page: read-only facts, no controls.
  window.qtiexportPlayer = {
    responses: function () {
      return player.responses.slice();
    }
  };
})();
