/** XML text escaping for element content and attribute values. */
const escapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#13;',
  '\n': '&#10;',
  '\t': '&#9;',
};

export function escapeXml(s: string): string {
  // S3 keys may hold CR, LF and tab: AWS escapes them as character references so that
  // XML parsers do not normalise them away.
  return /[&<>"'\r\n\t]/.test(s) ? s.replace(/[&<>"'\r\n\t]/g, (c) => escapes[c]!) : s;
}
