import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isActiveContent } from '../../src/core/active-content.js';

test('isActiveContent() is true for types a browser runs as documents: HTML, XHTML, SVG, any XML', () => {
  for (const type of [
    'text/html; charset=utf-8',
    'TEXT/HTML',
    'application/xhtml+xml',
    'image/svg+xml',
    'text/xml; charset=utf-8',
    'application/xml',
    'application/rss+xml',
    'text/xsl',
  ]) {
    assert.equal(isActiveContent(type), true, type);
  }
});

test('isActiveContent() is false for media, text, scripts served as files, and unknown bytes', () => {
  for (const type of [
    'audio/wav',
    'video/mp4',
    'image/png',
    'text/plain; charset=utf-8',
    'application/pdf',
    'application/octet-stream',
    'application/json',
    'text/javascript; charset=utf-8',
    '',
  ]) {
    assert.equal(isActiveContent(type), false, type);
  }
});
