/** HTML to visible text: character references and tag stripping (e-mail bodies, OSIS markup). */

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  nbsp: " ", amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", copy: "©", reg: "®", trade: "™", hellip: "…",
  mdash: "—", ndash: "–", lsquo: "‘", rsquo: "’", ldquo: "“", rdquo: "”", bull: "•", middot: "·", pound: "£",
  euro: "€", yen: "¥", cent: "¢", deg: "°", times: "×", laquo: "«", raquo: "»", iexcl: "¡", iquest: "¿",
};

/** Decode HTML character references (named ones from a small table, numeric ones fully). */
export function decodeHtmlEntities(text: string): string {
  return text.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});?/g, (m, ref: string) => {
    if (ref.startsWith("#")) {
      const cp = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : " ";
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? m;
  });
}

/** Visible text of an HTML document: head/style/script/comments removed, block tags become line breaks. */
export function htmlToText(html: string): string {
  return decodeHtmlEntities(
    html
      .replace(/<!--[\s\S]*?-->/g, " ")
      .replace(/<(head|style|script|title)\b[\s\S]*?<\/\1\s*>/gi, " ")
      .replace(/<(br|p|div|tr|li|h[1-6]|table|center|blockquote)\b[^>]*>/gi, "\n")
      .replace(/<\/(p|div|tr|li|h[1-6]|table|center|blockquote)\s*>/gi, "\n")
      .replace(/<[^>]*>/g, " "),
  );
}
