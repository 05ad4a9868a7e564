/**
 * Which served files a browser would run as a document with scripts: HTML, XHTML, SVG and any
 * XML (an XML document can hold XHTML-namespaced `<script>`, and Chromium renders `+xml` types as
 * XML). While uploads are on, these are answered with `Content-Security-Policy: sandbox`, so an
 * uploaded page runs in an opaque origin (no scripts, no access to the uploader's sessionStorage,
 * cookies or same-origin requests). Pure.
 */

/** The CSP sent with an active document while uploads are on. */
export const ACTIVE_CONTENT_CSP = 'sandbox';

/** True for a Content-Type (parameters allowed) a browser would render as a scriptable document. */
export function isActiveContent(contentType: string): boolean {
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return (
    type === 'text/html' ||
    type === 'application/xhtml+xml' ||
    type === 'image/svg+xml' ||
    type === 'text/xml' ||
    type === 'application/xml' ||
    type === 'text/xsl' ||
    type.endsWith('+xml')
  );
}
