/**
 * The URLs other machines on the network can open when the server listens on every interface:
 * one per non-internal address of the host, from what os.networkInterfaces() says.
 */

/** One entry of os.networkInterfaces() (family is a number on some Node 18 releases). */
export interface InterfaceAddress {
  address: string;
  family: string | number;
  internal: boolean;
}

export interface LanUrlOptions {
  /** The address listened on: `0.0.0.0` gives IPv4 URLs, `::` IPv4 and IPv6 (dual stack). */
  host: string;
  port: number;
  /** @default 'http' */
  scheme?: 'http' | 'https';
}

/** True for the wildcard addresses that listen on every interface. */
export function isEveryInterface(host: string): boolean {
  return isIpv4Wildcard(host) || isIpv6Wildcard(host);
}

function isIpv4Wildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '0';
}

function isIpv6Wildcard(host: string): boolean {
  return host === '::' || host === '[::]' || host === '::0';
}

function familyOf(entry: InterfaceAddress): 4 | 6 | undefined {
  if (entry.family === 'IPv4' || entry.family === 4) return 4;
  if (entry.family === 'IPv6' || entry.family === 6) return 6;
  return undefined;
}

/**
 * `scheme://ADDRESS:PORT/` for every address another machine can reach, IPv4 first, in the order
 * the system lists them, without duplicates. Loopback (internal) addresses are left out, and so
 * are IPv6 link-local ones (fe80::/10, RFC 4291 §2.5.6): they need a zone index (`%eth0`) that
 * browsers do not take in a URL (RFC 6874 was not adopted by them). Empty when `host` is not a
 * wildcard address.
 */
export function lanUrls(
  interfaces: Record<string, readonly InterfaceAddress[] | undefined>,
  options: LanUrlOptions,
): string[] {
  const v6 = isIpv6Wildcard(options.host);
  if (!v6 && !isIpv4Wildcard(options.host)) return [];
  const scheme = options.scheme ?? 'http';
  const v4urls: string[] = [];
  const v6urls: string[] = [];
  for (const entries of Object.values(interfaces)) {
    for (const entry of entries ?? []) {
      if (entry.internal) continue;
      const family = familyOf(entry);
      if (family === 4) v4urls.push(`${scheme}://${entry.address}:${options.port}/`);
      else if (family === 6 && v6 && !/^fe[89ab]/i.test(entry.address)) {
        v6urls.push(`${scheme}://[${entry.address}]:${options.port}/`);
      }
    }
  }
  return [...new Set([...v4urls, ...v6urls])];
}
