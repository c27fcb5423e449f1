// Canned replies on the advocate's chat page: "Use" puts the chosen reply in the reply box
// at once, to edit before sending. Without JavaScript, Use posts the form and the page
// comes back with the reply in the box; the texts here are the options' data-text.
(function () {
  "use strict";
  var form = document.getElementById("reply-form");
  var use = form && form.querySelector('button[name="use_canned"]');
  var choice = form && form.querySelector('select[name="canned_reply"]');
  var box = form && form.querySelector('textarea[name="body"]');
  if (!use || !choice || !box) {
    return;
  }
  use.addEventListener("click", function (event) {
    var option = choice.options[choice.selectedIndex];
    var text = option && option.getAttribute("data-text");
    if (!text) {
      return; // nothing chosen: let the server say so
    }
    event.preventDefault();
    // Assigning .value sets text, never markup.
    var typed = box.value.replace(/\s+$/, "");
    box.value = typed ? typed + "\n\n" + text : text;
    choice.selectedIndex = 0;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  });
})();
