/*
 * The order question type for player.js: a numbered list whose items the learner moves
 * with their Move up and Move down buttons; each move is announced in the page's live
 * region and focus stays on the button pressed. The state code is the keys in the
 * learner's order ("bac"); SCORM 1.2 reports it as "b,a,c".
 */
(function () {
  "use strict";

  /** The keys of the items in the order shown. */
  function codeOf(list) {
    return [].map.call(list.children, function (item) {
      return item.dataset.key;
    }).join("");
  }

  function itemOf(list, key) {
    return list.querySelector("[data-key=" + key + "]");
  }

  function sorted(code) {
    return code.split("").sort().join("");
  }

  /** Show the items in the order `code`. The first cannot go up nor the last down, which
   * is said (aria-disabled) rather than enforced by disabling, so that focus stays. */
  function arrange(list, code) {
    code.split("").forEach(function (key, index) {
      var buttons = list.appendChild(itemOf(list, key)).querySelectorAll("button");
      buttons[0].setAttribute("aria-disabled", index === 0);
      buttons[1].setAttribute("aria-disabled", index === code.length - 1);
    });
  }

  function announce(message) {
    var region = document.getElementById("announcer");
    region.textContent = "";
    setTimeout(function () {
      region.textContent = message;
    }, 50);
  }

  var types = window.QtiQuestions = window.QtiQuestions || {};

  types.order = {
    emptyMessage: "Order the items first.",
    setup: function (question) {
      var fieldset = question.fieldset = question.article.querySelector("fieldset");
      var list = question.list = fieldset.querySelector("ol");
      var keys = codeOf(list).split("");
      for (var i = question.spec.shuffle ? keys.length - 1 : 0; i > 0; i -= 1) {
        keys.push(keys.splice(Math.floor(Math.random() * (i + 1)), 1)[0]);
      }
      var code = keys.join("");
      // Never the answer itself: then the first goes last, as the build does.
      arrange(list, code === question.spec.correct ? code.slice(1) + code[0] : code);
      list.addEventListener("click", function (event) {
        var button = event.target.closest("button");
        if (!button || fieldset.disabled) {
          return;
        }
        var key = button.closest("li").dataset.key;
        var name = itemOf(list, key).querySelector(".order-text").textContent;
        var shown = codeOf(list);
        var others = shown.replace(key, "");
        var place = shown.indexOf(key) + Number(button.dataset.step);
        if (place < 0 || place > others.length) {
          return; // already first or last, as its aria-disabled said
        }
        arrange(list, others.slice(0, place) + key + others.slice(place));
        button.focus();
        announce(name + ", moved to position " + (place + 1) + " of " + shown.length + ".");
      });
    },
    focusTarget: function (question) {
      return question.list.querySelector("button");
    },
    read: function (question) {
      return codeOf(question.list);
    },
    /** Every item's key once, in any order. */
    accepts: function (question, code) {
      return sorted(code) === sorted(this.read(question));
    },
    points: function (question, code) {
      var spec = question.spec;
      var placed = 0;
      for (var i = 0; i < code.length; i += 1) {
        placed += code[i] === spec.correct[i];
      }
      if (placed === code.length) {
        return spec.points;
      }
      return spec.partial ? (spec.points * placed) / code.length : 0;
    },
    studentResponse: function (question, code) {
      return code.split("").join(",");
    },
    chosenKeys: function () {
      return [];
    },
    /** Lock the list in the order given, each item marked in its place or not. */
    show: function (question, code) {
      arrange(question.list, code);
      code.split("").forEach(function (key, index) {
        var right = question.spec.correct.indexOf(key);
        var item = itemOf(question.list, key);
        var mark = item.querySelector(".choice-mark");
        item.classList.add(right === index ? "is-correct" : "is-wrong");
        mark.textContent = right === index
          ? "(✓ in its place)"
          : "(✗ belongs at position " + (right + 1) + ")";
        mark.hidden = false;
      });
      question.fieldset.disabled = true;
    }
  };
})();
