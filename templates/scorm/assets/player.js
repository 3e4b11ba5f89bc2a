/*
 * The case player: one question at a time, feedback, result, findings, and tracking
 * through the SCORM 1.2 run-time API of the LMS. The image viewer is viewer.js
 * (window.QtiViewer); this page only opens it.
 *
 * Author text reaches this script only from the inline JSON (#player-data) and is put
 * into the page with textContent or as attribute values, never as markup; the markup
 * of the page itself was rendered and escaped on the server. The one exception is the
 * findings, XHTML rendered and checked at build time like the page's own, which
 * findings.js carries so that they are not in the page before the questions are done.
 *
 * Each question type is a module (question-*.js, loaded after this script) that registers
 * its behaviour on window.QtiQuestions under the type's name: how it reads, checks,
 * scores, reports and shows an answer. This script never asks which type a question is.
 *
 * Saved state (cmi.suspend_data) is {"v":1,"r":[...]}: one string per answered
 * question, in order, each as its type's module writes it ("a", "ace", "t"/"f", or the
 * typed text). The build tool proves with the same rule (qtiexport/tracking.py) that it
 * fits SCORM 1.2's 4096 characters.
 */
(function () {
  "use strict";

  var MAX_PARENT_HOPS = 10;
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

  /**
   * Scroll new content's heading to the top of the viewport, then focus it: the learner
   * keeps their place on a phone and a screen reader reads from there. The room below
   * the page lets a heading near its end reach the top too.
   */
  function bringToTop(element) {
    var room = byId("scroll-room");
    room.style.height = "0";
    var below = document.documentElement.scrollHeight -
      (element.getBoundingClientRect().top + window.pageYOffset);
    room.style.height = Math.max(0, window.innerHeight - below) + "px";
    var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    element.scrollIntoView({ block: "start", behavior: still ? "auto" : "smooth" });
    element.focus({ preventScroll: true });
  }

  /**
   * A wide table scrolls in its own box, not the page (scorm.py wraps each table in
   * one): a region that keyboard users can focus to scroll, named uniquely by its
   * caption or its number.
   */
  function nameTables() {
    var tables = document.querySelectorAll("main .prose table");
    Array.prototype.forEach.call(tables, function (table, index) {
      var box = table.parentNode;
      if (!box.classList.contains("table-scroll")) {
        box = document.createElement("div");
        box.className = "table-scroll";
        box.setAttribute("role", "region");
        box.setAttribute("tabindex", "0");
        table.parentNode.insertBefore(box, table);
        box.appendChild(table);
      }
      var caption = table.caption ? table.caption.textContent.trim() : "";
      box.setAttribute("aria-label", (caption ? caption + ", table " : "Table ") + (index + 1));
    });
  }

  /** Findings XHTML (checked at build time) as nodes: parsed inertly, never run. */
  function parseMarkup(html) {
    var parsed = new DOMParser().parseFromString(html, "text/html");
    var fragment = document.createDocumentFragment();
    Array.prototype.forEach.call(parsed.body.childNodes, function (node) {
      fragment.appendChild(document.importNode(node, true));
    });
    return fragment;
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

  /** One question of the page; its type's module (window.QtiQuestions) does the rest. */
  function Question(spec, article) {
    this.spec = spec;
    this.kind = window.QtiQuestions[spec.type];
    this.article = article;
    this.form = article.querySelector(".answer-form");
    this.feedback = article.querySelector(".feedback");
    this.nextButton = article.querySelector(".next-button");
    this.heading = article.querySelector(".question-heading");
    this.error = article.querySelector(".form-error");
    this.shownAt = null;
    this.kind.setup(this);
  }

  /** The answer given as its state code ("ace", "t", typed text), "" when there is none. */
  Question.prototype.readCode = function () {
    return this.kind.read(this);
  };

  /** Whether a saved code is one this question could have produced. */
  Question.prototype.accepts = function (code) {
    return typeof code === "string" && code !== "" && this.kind.accepts(this, code);
  };

  Question.prototype.points = function (code) {
    return this.kind.points(this, code);
  };

  /** Whether its type scores answers: one that does not (essay) is neither right nor wrong. */
  Question.prototype.scored = function () {
    return this.kind.scored !== false;
  };

  /** cmi.interactions.n.student_response in SCORM 1.2's format for the type. */
  Question.prototype.studentResponse = function (code) {
    return this.kind.studentResponse(this, code);
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
    this.findingsRequested = false;

    document.addEventListener("click", function (event) {
      var opener = event.target.closest("button[data-image]");
      if (opener && window.QtiViewer) {
        window.QtiViewer.open(opener.getAttribute("data-image"), opener);
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
    nameTables();
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
      question.error.textContent = question.kind.emptyMessage;
      question.error.hidden = false;
      question.kind.focusTarget(question).focus();
      return;
    }
    var answeredAt = new Date();
    this.lock(index, code);
    this.track(index, code, answeredAt);
    question.nextButton.hidden = false;
    bringToTop(question.feedback);
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

    question.kind.show(question, code, correct);

    var verdict = byId(question.article.id + "-verdict");
    var scored = question.scored();
    if (!scored) {
      verdict.textContent = "Answer submitted (not scored)";
    } else if (correct) {
      verdict.textContent = "✓ Correct";
    } else if (points > 0) {
      verdict.textContent = "Partly correct: " + decimal(points) + " of " +
        plural(spec.points, "point");
    } else {
      verdict.textContent = "✗ Incorrect";
    }
    if (scored) {
      question.feedback.classList.add(correct ? "is-correct" : "is-wrong");
    }
    // After an unscored answer the "incorrect" block shows what every answer gets (an
    // essay's model answer); such a type has no right/wrong feedback.
    var when = correct && scored ? "correct" : "incorrect";
    Array.prototype.forEach.call(question.feedback.querySelectorAll("[data-when]"), function (block) {
      block.hidden = block.getAttribute("data-when") !== when;
    });
    var chosenKeys = question.kind.chosenKeys(question, code);
    Array.prototype.forEach.call(question.feedback.querySelectorAll("[data-choice]"), function (block) {
      block.hidden = chosenKeys.indexOf(block.getAttribute("data-choice")) < 0;
    });
    question.feedback.hidden = false;
    if (this.responses.length === this.questions.length) {
      this.loadFindings();
    }
  };

  Player.prototype.percent = function () {
    var earned = this.earned.reduce(function (sum, value) {
      return sum + value;
    }, 0);
    return this.data.maxPoints > 0 ? (earned / this.data.maxPoints) * 100 : 0;
  };

  Player.prototype.outcome = function () {
    // A case of essays only has no score to pass or fail by.
    if (this.masteryScore === null || this.masteryScore === undefined || !this.data.maxPoints) {
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
    if (question.scored()) {
      tracker.set(prefix + "correct_responses.0.pattern", spec.correctPattern);
    }
    tracker.set(prefix + "result", !question.scored() ? "neutral" : correct ? "correct" : "wrong");
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
      bringToTop(following.heading);
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
      if (!question.scored()) {
        item.textContent = "Question " + (index + 1) + ": answered, not scored";
        list.appendChild(item);
        return;
      }
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
      bringToTop(byId("results-heading"));
      announce(byId("result-score").textContent + ". " + outcomeElement.textContent);
    }
  };

  /** Findings give answers away: their script is fetched only once every answer is in
   * (just given, restored on resume, or shown in review). */
  Player.prototype.loadFindings = function () {
    var src = this.data.findingsScript;
    if (!src || this.findingsRequested) {
      return;
    }
    this.findingsRequested = true;
    var player = this;
    var script = document.createElement("script");
    script.src = src;
    script.addEventListener("load", function () {
      player.showFindings(window.qtiexportFindings || {});
    });
    document.head.appendChild(script);
  };

  /** Each image's findings under its figure, and to the viewer. */
  Player.prototype.showFindings = function (findings) {
    var shown = 0;
    var figures = document.querySelectorAll("figure[data-image]");
    Array.prototype.forEach.call(figures, function (figure) {
      var html = findings[figure.getAttribute("data-image")];
      if (typeof html !== "string" || figure.querySelector(".findings")) {
        return;
      }
      var block = document.createElement("div");
      block.className = "findings";
      var title = document.createElement("p");
      title.className = "findings-title";
      title.textContent = "Findings";
      var body = document.createElement("div");
      body.className = "prose";
      body.appendChild(parseMarkup(html));
      block.appendChild(title);
      block.appendChild(body);
      figure.appendChild(block);
      shown += 1;
    });
    nameTables();
    byId("result-findings").hidden = shown === 0;
    if (window.QtiViewer && window.QtiViewer.revealFindings) {
      window.QtiViewer.revealFindings(findings);
    }
  };

  Player.prototype.leave = function () {
    if (this.tracker) {
      this.tracker.finish();
    }
  };

  // The question modules load after this script (in name order, all deferred): start
  // once every one has registered.
  document.addEventListener("DOMContentLoaded", function () {
    var player = new Player(readPlayerData());
    player.start();
    // For the test LMS and for authors poking at the page: read-only facts, no controls.
    window.qtiexportPlayer = {
      responses: function () {
        return player.responses.slice();
      }
    };
  });

  window.QtiQuestions = window.QtiQuestions || {};
})();
