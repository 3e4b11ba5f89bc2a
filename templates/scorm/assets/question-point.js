/*
 * The point question type for player.js: the learner places one point on an image, by a
 * pointer click, or with the crosshair button: the arrow keys move its crosshair by 1% of
 * the image (with Shift, 10%) and Enter or Space places the point there. The state code
 * is the point in the image's own pixels, "x,y", which SCORM 1.2 reports as a performance.
 * Once answered, the correct area is drawn on the image with the learner's point marked,
 * and in the viewer with annotations.
 */
(function () {
  "use strict";

  var POINT = /^(\d+),(\d+)$/;
  var types = window.QtiQuestions = window.QtiQuestions || {};

  function clamp(value, high) {
    return Math.min(high, Math.max(0, Math.round(value)));
  }

  function describe(point) {
    return "x " + point[0] + ", y " + point[1];
  }

  /** The crosshair (while moved by keys) and the point placed, over the image. */
  function draw(question, items) {
    var image = question.spec.image;
    var marks = [];
    if (question.aim) {
      marks.push({ mark: question.aim, tone: "is-aim" });
    }
    if (question.placed) {
      marks.push({ mark: question.placed, tone: "is-chosen" });
    }
    window.QtiViewer.drawShapes(question.overlay, image.width, image.height, (items || []).concat(marks));
  }

  function place(question, point) {
    var image = question.spec.image;
    question.placed = [clamp(point[0], image.width), clamp(point[1], image.height)];
    question.aim = null;
    question.where.textContent = "Point placed at " + describe(question.placed) + " of the image's " +
      image.width + " × " + image.height + " pixels.";
    question.error.hidden = true;
    draw(question);
  }

  types.point = {
    emptyMessage: "Place a point on the image first.",
    setup: function (question) {
      var image = question.spec.image;
      var stage = question.article.querySelector(".image-stage");
      var button = question.crosshair = stage.querySelector("button");
      question.fieldset = question.article.querySelector("fieldset");
      question.picture = stage.querySelector("img");
      question.where = question.article.querySelector(".point-where");
      question.overlay = stage.appendChild(document.createElementNS("http://www.w3.org/2000/svg", "svg"));
      question.overlay.setAttribute("class", "shape-overlay");
      question.overlay.setAttribute("aria-hidden", "true");
      question.placed = null;
      question.aim = null;
      // Enter and Space click with detail 0: the point goes where the crosshair is.
      button.addEventListener("click", function (event) {
        if (event.detail === 0) {
          place(question, question.aim || question.placed || [image.width / 2, image.height / 2]);
          return;
        }
        var box = question.picture.getBoundingClientRect();
        place(question, [(event.clientX - box.left) * image.width / box.width,
          (event.clientY - box.top) * image.height / box.height]);
      });
      // A click on this image in the viewer, zoomed or not, places the point there too.
      window.QtiViewer.onImageClick(image.id, function (x, y) {
        if (question.fieldset.disabled || question.article.hidden) {
          return null;
        }
        place(question, [x, y]);
        return { items: [{ mark: question.placed, tone: "is-chosen" }], message: question.where.textContent };
      });
      button.addEventListener("keydown", function (event) {
        var move = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[event.key];
        if (!move || event.altKey || event.ctrlKey || event.metaKey) {
          return;
        }
        event.preventDefault();
        var share = event.shiftKey ? 0.1 : 0.01;
        var from = question.aim || question.placed || [image.width / 2, image.height / 2];
        question.aim = [clamp(from[0] + move[0] * Math.max(1, share * image.width), image.width),
          clamp(from[1] + move[1] * Math.max(1, share * image.height), image.height)];
        question.where.textContent = "Crosshair at " + describe(question.aim) + "; Enter places the point.";
        draw(question);
      });
    },
    focusTarget: function (question) {
      return question.crosshair;
    },
    read: function (question) {
      return question.placed ? question.placed.join(",") : "";
    },
    /** Whole pixels within the image. */
    accepts: function (question, code) {
      var found = POINT.exec(code);
      var image = question.spec.image;
      return !!found && Number(found[1]) <= image.width && Number(found[2]) <= image.height;
    },
    points: function (question, code) {
      var point = code.split(",").map(Number);
      return window.QtiViewer.inside(question.spec.area, point[0], point[1]) ? question.spec.points : 0;
    },
    studentResponse: function (question, code) {
      return code;
    },
    chosenKeys: function () {
      return [];
    },
    /** Lock the point; draw the correct area with the point marked. */
    show: function (question, code) {
      var spec = question.spec;
      place(question, code.split(",").map(Number));
      question.where.textContent = "Your point: " + describe(question.placed) + ".";
      question.fieldset.disabled = true;
      var area = { shape: spec.area.shape, coords: spec.area.coords, label: spec.label || "Correct area", tone: "is-correct" };
      draw(question, [area]);
      window.QtiViewer.addOverlay(spec.image.id, [area, { mark: question.placed, tone: "is-chosen" }]);
    }
  };
})();
