// Appended at the end of <body> of a copy of an HTML report by
// tests/report_layout.h, then run by headless Chromium (--dump-dom). It
// measures every piece of text the page shows and writes what it found as
// JSON into a <pre> with the id layout-check, the last element of the body:
//   overlaps  pairs of text boxes that cover each other (an element and its
//             own ancestors or descendants are not compared);
//   offpage   text past the right edge of the window (the page scrolls sideways);
//   clipped   chart text cut off by the edge of its <svg>;
//   wide      blocks (tables, charts, pre) wider than the window.
(function () {
  const tolerance = 1;  // px: table cells share a border, glyph boxes touch
  const limit = 40;     // entries kept per list: enough to name the problem
  const boxes = [];
  // What a failure message shows of a text: whitespace collapsed, long ones cut.
  const name = (s) => { s = s.replace(/\s+/g, ' ').trim(); return s.length > 60 ? s.slice(0, 57) + '...' : s; };
  // HTML text: one box per line of each text node, not the cell's box, so
  // text that spills out of a narrow cell is measured where it is drawn.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || el.closest('svg, script, style')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects())
      if (r.width > 0 && r.height > 0) boxes.push({el, text: name(node.textContent), r});
  }
  // Chart text: the box of each <text> as drawn (rotation included).
  for (const el of document.querySelectorAll('svg text')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) boxes.push({el, text: name(el.textContent), r, svg: el.ownerSVGElement});
  }
  const width = document.documentElement.clientWidth;
  const result = {width, texts: boxes.length, overlaps: [], offpage: [], clipped: [], wide: [],
                  scroll_width: document.documentElement.scrollWidth};
  const offpage = new Set();  // elements already reported: a wrapped text has one box per line
  const push = (list, item) => { if (list.length < limit) list.push(item); };
  const covers = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > tolerance &&
                           Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > tolerance;
  for (let i = 0; i < boxes.length; ++i) {
    const a = boxes[i];
    if (a.r.right > width + tolerance && !offpage.has(a.el)) offpage.add(a.el), push(result.offpage, a.text);
    if (a.svg) {
      const s = a.svg.getBoundingClientRect();
      if (a.r.left < s.left - tolerance || a.r.right > s.right + tolerance || a.r.top < s.top - tolerance ||
          a.r.bottom > s.bottom + tolerance)
        push(result.clipped, a.text);
    }
    for (let j = i + 1; j < boxes.length; ++j) {
      const b = boxes[j];
      if (a.el === b.el || a.el.contains(b.el) || b.el.contains(a.el)) continue;
      if (covers(a.r, b.r)) push(result.overlaps, [a.text, b.text]);
    }
  }
  for (const el of document.querySelectorAll('table, svg, pre'))
    if (el.getBoundingClientRect().right > width + tolerance)
      push(result.wide, el.tagName.toLowerCase() + ' ' + name(el.textContent));
  const out = document.createElement('pre');
  out.id = 'layout-check';
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
})();
