/**
 * What kind of file an entry is, for the page's icons, labels and inline players. Pure.
 */
import type { ListingEntry } from './entry.js';

export type FileCategory =
  | 'folder'
  | 'audio'
  | 'video'
  | 'image'
  | 'text'
  | 'code'
  | 'archive'
  | 'document'
  | 'file';

/** Media types browsers play or show inline; others of the same family get no player. */
const PLAYABLE_AUDIO = /^audio\/(mpeg|mp3|wav|x-wav|wave|ogg|opus|flac|x-flac|aac|mp4|x-m4a|webm)$/;
const PLAYABLE_VIDEO = /^video\/(mp4|webm|ogg)$/;
const SHOWABLE_IMAGE = /^image\/(png|jpeg|gif|webp|avif|svg\+xml|bmp|x-icon|vnd\.microsoft\.icon)$/;
const ARCHIVE =
  /^application\/(zip|gzip|x-gzip|x-tar|x-7z-compressed|x-rar-compressed|vnd\.rar|x-bzip2|x-xz|zstd|x-iso9660-image|x-debian-package|x-apple-diskimage|java-archive)$/;
const CODE =
  /^(application\/(json|xml|javascript|x-sh|x-python|wasm|toml|yaml)|text\/(javascript|css|html|xml|x-python|x-c|x-java-source|x-shellscript))$/;
const DOCUMENT =
  /^application\/(pdf|msword|rtf|epub\+zip|vnd\.(oasis\.opendocument|openxmlformats-officedocument|ms-)[^;]*)$/;

function essence(type: string): string {
  return (type.split(';')[0] ?? '').trim().toLowerCase();
}

/** A broad category for an entry's icon and hint. */
export function fileCategory(entry: Pick<ListingEntry, 'kind' | 'type'>): FileCategory {
  if (entry.kind === 'directory') return 'folder';
  const type = essence(entry.type);
  if (ARCHIVE.test(type)) return 'archive';
  if (CODE.test(type)) return 'code';
  if (DOCUMENT.test(type)) return 'document';
  if (type.startsWith('audio/')) return 'audio';
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('text/')) return 'text';
  return 'file';
}

/** The inline preview an entry gets on the page, if any. */
export function previewFor(
  entry: Pick<ListingEntry, 'kind' | 'type'>,
): 'audio' | 'video' | 'image' | null {
  if (entry.kind === 'directory') return null;
  const type = essence(entry.type);
  if (PLAYABLE_AUDIO.test(type)) return 'audio';
  if (PLAYABLE_VIDEO.test(type)) return 'video';
  if (SHOWABLE_IMAGE.test(type)) return 'image';
  return null;
}

const CATEGORY_NOUN: Record<FileCategory, string> = {
  folder: 'Folder',
  audio: 'audio',
  video: 'video',
  image: 'image',
  text: 'text',
  code: 'source',
  archive: 'archive',
  document: 'document',
  file: 'file',
};

/** A short kind for people: `Folder`, `WAV audio`, `PNG image`, `ZIP archive`, `File`. */
export function kindLabel(entry: Pick<ListingEntry, 'name' | 'kind' | 'type'>): string {
  const category = fileCategory(entry);
  if (category === 'folder') return 'Folder';
  const dot = entry.name.lastIndexOf('.');
  const ext = dot > 0 ? entry.name.slice(dot + 1) : '';
  const noun = CATEGORY_NOUN[category];
  if (/^[A-Za-z0-9]{1,5}$/.test(ext)) return `${ext.toUpperCase()} ${noun}`;
  return noun === 'file' ? 'File' : noun[0]?.toUpperCase() + noun.slice(1);
}
