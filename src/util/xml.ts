/** XML text escaping for element content and attribute values. */
const escapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#13;',
};

export function escapeXml(s: string): string {
  // XML parsers keep LF and TAB in element text but turn CR into LF, so a key holding a
  // CR must carry it as a character reference to survive the round trip.
  return /[&<>"'\r]/.test(s) ? s.replace(/[&<>"'\r]/g, (c) => escapes[c]!) : s;
}
