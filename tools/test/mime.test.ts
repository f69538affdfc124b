import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { cleanLine } from "../text/clean.js";
import { decodeHtmlEntities, htmlToText } from "../text/html.js";
import { decodeEncodedWords, decodeQuotedPrintable, emailToText, headerParam, parseMimeEntity } from "../text/mime.js";
import { spamTaskText } from "../sources/spam-assassin.js";

describe("e-mail parsing", () => {
  test("headers: unfolding, first occurrence, parameters, encoded words", () => {
    const e = parseMimeEntity("Subject: hello\n  world\nX-A: 1\nx-a: 2\nContent-Type: text/plain; charset=\"ISO-8859-1\"\n\nbody\n\nmore");
    assert.equal(e.headers.get("subject"), "hello world");
    assert.equal(e.headers.get("x-a"), "1");
    assert.equal(headerParam(e.headers.get("content-type") ?? "", "charset"), "ISO-8859-1");
    assert.equal(e.body, "body\n\nmore");
    assert.equal(decodeEncodedWords("=?utf-8?B?Q2Fmw6k=?= =?ISO-8859-1?Q?na=EFve_day?="), "Cafénaïve day");
    assert.equal(decodeEncodedWords("plain"), "plain");
  });

  test("quoted-printable and HTML", () => {
    assert.equal(Buffer.from(decodeQuotedPrintable("caf=E9 =\nsoft=3D")).toString("latin1"), "café soft=");
    assert.equal(decodeHtmlEntities("&lt;a&gt; &amp; &#233;&#x41;&nbsp;&bogus;"), "<a> & éA &bogus;");
    assert.equal(cleanLine(htmlToText("<html><head><title>T</title><style>p{}</style></head><body><p>Hi<br>there</p><!-- c --><b>bold</b></body></html>")), "Hi there bold");
  });

  test("multipart: the first text/plain part; base64 with a charset; quoted lines, URLs and addresses scrubbed", () => {
    const raw = [
      "From: someone@example.com",
      "Subject: =?iso-8859-1?Q?R=E9sum=E9?= offer",
      "Content-Type: multipart/alternative; boundary=\"XX\"",
      "",
      "preamble",
      "--XX",
      "Content-Type: text/html",
      "",
      "<p>HTML version</p>",
      "--XX",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: base64",
      "",
      Buffer.from("Hello Zoë,\n> quoted line\nvisit http://spam.example.com/x?y=1 or mail me@example.org!!!!!!\n").toString("base64"),
      "--XX--",
      "",
    ].join("\n");
    const t = emailToText(raw);
    assert.equal(t.subject, "Résumé offer");
    assert.equal(t.body, "Hello Zoë, visit [url] or mail [email] !!!");
    assert.equal(spamTaskText(raw), "Résumé offer: Hello Zoë, visit [url] or mail [email] !!!");
  });

  test("html-only message, no subject, truncation", () => {
    const words = Array.from({ length: 100 }, (_, i) => `w${i}`).join(" ");
    const raw = `Content-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n<html><body>${words}=\n</body></html>\n`;
    const text = spamTaskText(raw, { maxBodyWords: 10 });
    assert.equal(text, "(no subject): w0 w1 w2 w3 w4 w5 w6 w7 w8 w9");
    assert.equal(spamTaskText("Subject: only\n\n"), "only");
    assert.ok(spamTaskText(`Subject: x\n\n${words} ${words}`).length <= 480);
  });

  test("attachments and non-text parts are skipped", () => {
    const raw = [
      "Subject: s",
      "Content-Type: multipart/mixed; boundary=b",
      "",
      "--b",
      "Content-Type: application/octet-stream",
      "",
      "BINARY",
      "--b",
      "Content-Type: text/plain",
      "Content-Disposition: attachment; filename=a.txt",
      "",
      "attached",
      "--b",
      "Content-Type: text/plain",
      "",
      "the body",
      "--b--",
    ].join("\n");
    assert.equal(emailToText(raw).body, "the body");
  });
});
