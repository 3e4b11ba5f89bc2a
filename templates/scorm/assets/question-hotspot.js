/*
 * The hotspot question type for player.js: the learner picks areas of an image. Each area
 * is a button named by its label, laid over the area's box and seen only when focused
 * (Tab, then Enter or Space toggles it); a pointer click on the image picks the area under
 * it, hit-tested in the image's own pixels. The state code is the keys chosen ("a", "ac");
 * SCORM 1.2 reports them as a choice ("a,c"). Once answered, the correct areas are drawn
 * on the image, the learner's other choices dashed, and in the viewer with annotations.
 */
(function () {
  "use strict";

  var types = window.QtiQuestions = window.QtiQuestions || {};

  function sorted(code) {
    return code.split("").sort().join("");
  }

  function areaOf(question, key) {
    return question.spec.areas.filter(function (area) {
      return area.key === key;
    })[0];
  }

  /** The image pixel under a pointer, from the painted image's box. */
  function pixelAt(question, event) {
    var box = question.picture.getBoundingClientRect();
    var image = question.spec.image;
    return [(event.clientX - box.left) * image.width / box.width,
      (event.clientY - box.top) * image.height / box.height];
  }

  function labels(question, code) {
    return code.split("").map(function (key) {
      return areaOf(question, key).label;
    }).join(", ");
  }

  /** Mark the areas of `code` chosen: pressed buttons, a cross on each, their names. */
  function choose(question, code) {
    var image = question.spec.image;
    var marks = question.marks = [];
    question.spec.areas.forEach(function (area) {
      var chosen = code.indexOf(area.key) >= 0;
      question.buttons[area.key].setAttribute("aria-pressed", String(chosen));
      if (chosen) {
        var box = window.QtiViewer.bounds(area);
        marks.push({ mark: question.clicks[area.key] || [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], tone: "is-chosen" });
      }
    });
    window.QtiViewer.drawShapes(question.overlay, image.width, image.height, marks);
    question.chosen.textContent = code ? "Your answer: " + labels(question, code) + "." : "";
  }

  /** The first area (in the author's order) under image pixel (x, y), if any. */
  function areaAt(question, x, y) {
    return question.spec.areas.filter(function (area) {
      return window.QtiViewer.inside(area, x, y);
    })[0];
  }

  /**
   * Toggle area `key` as its button does, or, for a click at image pixel `at`, pick it
   * (a single answer keeps it; a multiple one toggles it).
   */
  function pick(question, key, at) {
    var spec = question.spec;
    if (at) {
      question.clicks[key] = at;
    }
    var code = types.hotspot.read(question);
    var was = code.indexOf(key) >= 0;
    code = spec.multiple ? (was ? code.replace(key, "") : code + key) : was && !at ? "" : key;
    choose(question, sorted(code));
    question.error.hidden = true;
  }

  types.hotspot = {
    emptyMessage: "Select an area of the image first.",
    setup: function (question) {
      var spec = question.spec;
      var stage = question.article.querySelector(".image-stage");
      question.fieldset = question.article.querySelector("fieldset");
      question.picture = stage.querySelector("img");
      question.chosen = question.article.querySelector(".image-chosen");
      question.overlay = stage.appendChild(document.createElementNS("http://www.w3.org/2000/svg", "svg"));
      question.overlay.setAttribute("class", "shape-overlay");
      question.overlay.setAttribute("aria-hidden", "true");
      question.buttons = {};
      question.clicks = {};
      // Each button covers its area's box, in percent of the image: it follows the size.
      spec.areas.forEach(function (area) {
        var button = question.buttons[area.key] = stage.querySelector("[data-key=" + area.key + "]");
        var box = window.QtiViewer.bounds(area);
        button.style.left = (100 * box[0]) / spec.image.width + "%";
        button.style.top = (100 * box[1]) / spec.image.height + "%";
        button.style.width = (100 * (box[2] - box[0])) / spec.image.width + "%";
        button.style.height = (100 * (box[3] - box[1])) / spec.image.height + "%";
      });
      question.marks = [];
      stage.addEventListener("click", function (event) {
        if (question.fieldset.disabled) {
          return;
        }
        var button = event.target.closest("[data-key]");
        if (button) {
          pick(question, button.getAttribute("data-key"), null);
          return;
        }
        var at = pixelAt(question, event);
        var hit = areaAt(question, at[0], at[1]);
        if (hit) {
          pick(question, hit.key, at);
        }
      });
      // A click on this image in the viewer, zoomed or not, answers as one here does.
      window.QtiViewer.onImageClick(spec.image.id, function (x, y) {
        if (question.fieldset.disabled || question.article.hidden) {
          return null;
        }
        var hit = areaAt(question, x, y);
        if (hit) {
          pick(question, hit.key, [x, y]);
        }
        return {
          items: question.marks,
          message: !hit ? "No area of the question there." : question.chosen.textContent || "No area selected."
        };
      });
    },
    focusTarget: function (question) {
      return question.buttons[question.spec.areas[0].key];
    },
    read: function (question) {
      return question.spec.areas.filter(function (area) {
        return question.buttons[area.key].getAttribute("aria-pressed") === "true";
      }).map(function (area) {
        return area.key;
      }).join("");
    },
    /** Area keys, each once, in order; one only for a single answer. */
    accepts: function (question, code) {
      var known = code.split("").every(function (key, index) {
        return areaOf(question, key) && (index === 0 || code[index - 1] < key);
      });
      return known && (question.spec.multiple || code.length === 1);
    },
    points: function (question, code) {
      return sorted(code) === sorted(question.spec.correct.join("")) ? question.spec.points : 0;
    },
    studentResponse: function (question, code) {
      return code.split("").join(",");
    },
    chosenKeys: function (question, code) {
      return code.split("");
    },
    /** Lock the choice; draw the correct areas, the learner's other choices dashed. */
    show: function (question, code) {
      var spec = question.spec;
      choose(question, code);
      question.fieldset.disabled = true;
      var items = spec.areas.filter(function (area) {
        return spec.correct.indexOf(area.key) >= 0 || code.indexOf(area.key) >= 0;
      }).map(function (area) {
        var right = spec.correct.indexOf(area.key) >= 0;
        return {
          shape: area.shape,
          coords: area.coords,
          label: area.label + (right ? "" : " (your answer)"),
          tone: right ? "is-correct" : "is-chosen"
        };
      });
      // With the learner's click (or, after a resume, each chosen area's centre) marked.
      items = items.concat(question.marks);
      window.QtiViewer.drawShapes(question.overlay, spec.image.width, spec.image.height, items);
      window.QtiViewer.addOverlay(spec.image.id, items);
    }
  };
})();
