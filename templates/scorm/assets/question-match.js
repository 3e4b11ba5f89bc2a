/*
 * The match question type for player.js: a select per choice, labelled by the choice,
 * listing the targets. Its state code is the chosen target of each choice in the order
 * of the author's choices ("xyz": a with x, b with y, c with z), whatever order the page
 * shows them in; SCORM 1.2 reports it as "a.x,b.y,c.z".
 */
(function () {
  "use strict";

  function list(items, from) {
    return Array.prototype.slice.call(items, from || 0);
  }

  function shuffled(items) {
    var order = items.slice();
    for (var i = order.length - 1; i > 0; i -= 1) {
      var j = Math.floor(Math.random() * (i + 1));
      var swap = order[i];
      order[i] = order[j];
      order[j] = swap;
    }
    return order;
  }

  var types = window.QtiQuestions = window.QtiQuestions || {};

  types.match = {
    emptyMessage: "Choose a match for every item first.",
    setup: function (question) {
      var fixed = question.spec.fixed;
      var fieldset = question.fieldset = question.article.querySelector("fieldset");
      // In the author's order, which the state code follows.
      var selects = question.selects = list(fieldset.querySelectorAll("select"));
      var targets = question.targets = list(selects[0].options, 1).map(function (option) {
        return option.value;
      });
      if (question.spec.shuffle) {
        // Fixed rows stay in place; the others take the free places in a random order.
        var rows = selects.map(function (select) {
          return select.parentNode;
        });
        var isFixed = function (row) {
          return fixed.indexOf(row.dataset.key) >= 0;
        };
        var movable = shuffled(rows.filter(function (row) {
          return !isFixed(row);
        }));
        rows.forEach(function (row) {
          fieldset.appendChild(isFixed(row) ? row : movable.shift());
        });
        // One order of the targets, the same in every select.
        var order = shuffled(targets);
        selects.forEach(function (select) {
          order.forEach(function (key) {
            select.appendChild(select.querySelector("[value=" + key + "]"));
          });
        });
      }
    },
    focusTarget: function (question) {
      return question.fieldset.querySelector("select"); // the first the page shows
    },
    read: function (question) {
      var code = question.selects.map(function (select) {
        return select.value;
      }).join("");
      return code.length === question.selects.length ? code : "";
    },
    /** A target letter for each choice. */
    accepts: function (question, code) {
      var targets = "[" + question.targets.join("") + "]";
      return new RegExp("^" + targets + "{" + question.selects.length + "}$").test(code);
    },
    points: function (question, code) {
      var spec = question.spec;
      var right = code.split("").filter(function (key, index) {
        return key === spec.correct[index];
      }).length;
      // All or nothing, or each right pair its share of the points.
      return spec.partial || right === code.length ? spec.points * right / code.length : 0;
    },
    studentResponse: function (question, code) {
      return question.selects.map(function (select, index) {
        return select.dataset.key + "." + code[index];
      }).join(",");
    },
    chosenKeys: function () {
      return [];
    },
    /** Lock the selects with the answer given, each row marked right or wrong. */
    show: function (question, code) {
      var correct = question.spec.correct;
      question.selects.forEach(function (select, index) {
        var row = select.parentNode;
        var right = code[index] === correct[index];
        var mark = row.querySelector(".choice-mark");
        select.value = code[index];
        row.classList.add(right ? "is-correct" : "is-wrong");
        mark.textContent = right ? "(✓ correct)" : "(✗ incorrect; the match is " +
          select.querySelector("[value=" + correct[index] + "]").textContent + ")";
        mark.hidden = false;
      });
      question.fieldset.disabled = true;
    }
  };
})();
