/**
 * Content negotiation for a listing: HTML for people, JSON for scripts. Pure.
 */

/**
 * True when an Accept header (RFC 9110 §12.5.1) ranks `application/json` above `text/html`. A
 * browser's `text/html,…,*\/*;q=0.8` gets HTML; `application/json` and `application/json, *\/*` get
 * JSON; a tie with `text/html` named goes to HTML.
 */
export function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  let json = 0;
  let html = 0;
  let htmlSpecific = -1; // specificity of the range that set `html`: */* 0, text/* 1, text/html 2
  let jsonSpecific = -1;
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    let q = 1;
    for (const p of params) {
      const m = /^q=([01](\.\d{0,3})?)$/.exec(p);
      if (m?.[1] !== undefined) q = Number(m[1]);
    }
    // §12.5.1: the most specific matching range decides the quality of a type.
    const forJson =
      range === 'application/json' ? 2 : range === 'application/*' ? 1 : range === '*/*' ? 0 : -1;
    const forHtml = range === 'text/html' ? 2 : range === 'text/*' ? 1 : range === '*/*' ? 0 : -1;
    if (forJson > jsonSpecific) [json, jsonSpecific] = [q, forJson];
    if (forHtml > htmlSpecific) [html, htmlSpecific] = [q, forHtml];
  }
  // A tie goes to JSON only when HTML was not named (`application/json, */*` from a script).
  return jsonSpecific === 2 && json > 0 && (json > html || (json === html && htmlSpecific < 2));
}
