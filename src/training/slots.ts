/**
 * The corpus generator's shared slot library: `{ip}`, `{pid}`, `{syslog_ts}` … in a template
 * become a fresh random value of that shape. Families add their own word lists in their
 * template files (data/templates/*.yaml); the shapes that need code live here.
 */

export class Rng {
  constructor(readonly next: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Picks a key of `weights` with probability proportional to its value. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let roll = this.next() * total;
    for (const [k, w] of entries) {
      roll -= w;
      if (roll < 0) return k;
    }
    return entries[entries.length - 1][0];
  }
  hex(len: number): string {
    let s = '';
    for (let i = 0; i < len; i++) s += '0123456789abcdef'[this.int(0, 15)];
    return s;
  }
  float(lo: number, hi: number, digits: number): string {
    return (lo + this.next() * (hi - lo)).toFixed(digits);
  }
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const FIRST = ['anna', 'bruno', 'chen', 'dmitri', 'elena', 'farah', 'gopal', 'hana', 'ivan', 'julia', 'kofi', 'lena', 'marco', 'nadia', 'omar', 'priya', 'quinn', 'rosa', 'sven', 'tariq', 'uma', 'victor', 'wei', 'yusuf', 'zoe'];
const LAST = ['smith', 'okafor', 'nguyen', 'garcia', 'muller', 'rossi', 'tanaka', 'kowalski', 'silva', 'haddad', 'berg', 'patel', 'novak', 'costa'];
const SERVICE_ACCOUNTS = ['deployer', 'svc-backup', 'ci-runner', 'svc-app', 'build-bot', 'ops-admin', 'svc-monitor', 'etl-svc', 'svc-web', 'dbadmin2'];
const HOST_WORDS = ['web', 'app', 'db', 'worker', 'cache', 'node', 'edge', 'batch', 'kafka', 'es', 'compute', 'stor', 'gw', 'lb', 'mq', 'build', 'ci', 'mon', 'log', 'nfs', 'dn', 'nn', 'rm', 'zk'];
const DOMAINS = ['example.com', 'corp.local', 'internal.net', 'acme.io', 'prod.lan', 'svc.cluster.local', 'cloud.test'];
const DIRS = ['/var/log', '/var/lib/app', '/etc', '/opt/app/conf', '/srv/data', '/home/{user}', '/tmp', '/usr/local/lib', '/data/disk1', '/mnt/shared', '/var/cache', '/run'];
const FILE_WORDS = ['config', 'settings', 'index', 'data', 'cache', 'report', 'session', 'state', 'server', 'app', 'main', 'backup', 'events', 'metrics'];
const EXTS = ['log', 'conf', 'json', 'yaml', 'xml', 'db', 'dat', 'tmp', 'lock', 'csv', 'gz', 'properties', 'ini', 'pid'];
const HTTP_PATHS = ['/', '/index.html', '/login', '/logout', '/api/v1/users', '/api/v1/orders/{1-99999}', '/api/v2/items?page={1-40}', '/static/js/app.{hex8}.js', '/static/css/site.css', '/images/logo.png', '/favicon.ico', '/robots.txt', '/healthz', '/metrics', '/graphql', '/search?q={word}', '/cart/checkout', '/admin/', '/wp-login.php', '/api/v1/sessions', '/download/{word}.pdf', '/v2/{hex32}/servers/detail'];
const AGENTS = ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36', 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0', 'curl/8.4.0', 'python-requests/2.31.0', 'Go-http-client/1.1', 'okhttp/4.11.0', 'kube-probe/1.28', 'Wget/1.21.2', 'Googlebot/2.1 (+http://www.google.com/bot.html)'];
const WORDS = ['alpha', 'bravo', 'delta', 'echo', 'kilo', 'tango', 'orchid', 'granite', 'falcon', 'maple', 'cobalt', 'saffron', 'nebula', 'harbor', 'quartz', 'willow', 'ember', 'summit', 'lotus', 'prairie'];

function timestamp(r: Rng): { y: number; mo: number; d: number; h: number; mi: number; s: number; ms: number } {
  return { y: r.int(2015, 2026), mo: r.int(1, 12), d: r.int(1, 28), h: r.int(0, 23), mi: r.int(0, 59), s: r.int(0, 59), ms: r.int(0, 999) };
}

/** Slots whose value is computed. Family files add list-valued slots of their own. */
export const SLOTS: Readonly<Record<string, (r: Rng) => string>> = {
  // numbers and sizes
  n: (r) => String(r.int(2, 60)),
  num: (r) => String(r.int(0, 9999)),
  bign: (r) => String(r.int(100, 2_000_000)),
  pct: (r) => String(r.int(0, 100)),
  highpct: (r) => String(r.int(80, 100)),
  float: (r) => r.float(0, 100, 2),
  ms: (r) => String(r.int(1, 30000)),
  secs: (r) => String(r.int(1, 3600)),
  dur: (r) => r.pick([() => `${r.int(1, 900)}ms`, () => `${r.int(1, 59)}s`, () => `${r.float(0.01, 30, 3)}s`, () => `${r.int(1, 50)}m${r.int(0, 59)}s`])(),
  bytes: (r) => String(r.int(0, 50_000_000)),
  kb: (r) => String(r.int(1, 999_999)),
  mb: (r) => String(r.int(16, 65536)),
  gb: (r) => String(r.int(1, 4096)),
  size: (r) => r.pick([() => `${r.int(1, 999)} KB`, () => `${r.int(1, 999)}MB`, () => `${r.float(1, 500, 1)} GB`, () => `${r.int(2, 900)}MiB`, () => `${r.int(1, 64)}G`])(),
  // identifiers
  uuid: (r) => `${r.hex(8)}-${r.hex(4)}-4${r.hex(3)}-${r.pick(['8', '9', 'a', 'b'])}${r.hex(3)}-${r.hex(12)}`,
  hex4: (r) => r.hex(4),
  hex8: (r) => r.hex(8),
  hex12: (r) => r.hex(12),
  hex16: (r) => r.hex(16),
  hex32: (r) => r.hex(32),
  addr: (r) => `0x${r.hex(r.pick([8, 12, 16]))}`,
  id: (r) => String(r.int(1000, 9_999_999)),
  pid: (r) => String(r.int(2, 65535)),
  tid: (r) => String(r.int(1, 32768)),
  uid: (r) => String(r.pick([0, r.int(100, 65000), r.int(1000, 1100)])),
  // network
  ip: (r) => r.pick([() => `10.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`, () => `192.168.${r.int(0, 255)}.${r.int(1, 254)}`, () => `${r.int(23, 223)}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`, () => `172.${r.int(16, 31)}.${r.int(0, 255)}.${r.int(1, 254)}`])(),
  ipv6: (r) => `${r.pick(['fe80', '2001:db8', 'fd00'])}::${r.hex(4)}:${r.hex(4)}`,
  port: (r) => String(r.pick([22, 80, 443, 8080, 8443, 3306, 5432, 6379, 9092, 2181, 9200, 53, 25, 389, 636, 11211, 27017, 50010, 8020])),
  eport: (r) => String(r.int(1024, 65535)),
  mac: (r) => Array.from({ length: 6 }, () => r.hex(2)).join(':'),
  host: (r) => `${r.pick(HOST_WORDS)}${r.pick(['-', '', '-0'])}${r.int(1, 64)}`,
  fqdn: (r) => `${r.pick(HOST_WORDS)}-${r.int(1, 64)}.${r.pick(DOMAINS)}`,
  domain: (r) => r.pick(DOMAINS),
  url: (r) => `https://${r.pick(HOST_WORDS)}.${r.pick(DOMAINS)}${r.pick(['/', '/api/v1/status', '/v2/', '/login'])}`,
  // people and accounts
  user: (r) => r.pick([() => `${r.pick(FIRST)}.${r.pick(LAST)}`, () => `${r.pick(FIRST)[0]}${r.pick(LAST)}`, () => r.pick(SERVICE_ACCOUNTS), () => `${r.pick(FIRST)}${r.int(1, 99)}`, () => `u${r.int(1000, 99999)}`])(),
  email: (r) => `${r.pick(FIRST)}.${r.pick(LAST)}@${r.pick(DOMAINS)}`,
  // files
  dir: (r) => r.pick(DIRS),
  file: (r) => `${r.pick(FILE_WORDS)}${r.pick(['', '_' + r.int(1, 99), '-' + r.hex(4)])}.${r.pick(EXTS)}`,
  path: (r) => `${r.pick(DIRS)}/${r.pick(FILE_WORDS)}${r.pick(['', '_' + r.int(1, 99)])}.${r.pick(EXTS)}`,
  winpath: (r) => `C:\\${r.pick(['Windows\\System32', 'Program Files\\App', 'ProgramData\\Service', 'Users\\' + r.pick(FIRST)])}\\${r.pick(FILE_WORDS)}.${r.pick(['dll', 'exe', 'log', 'dat', 'ini'])}`,
  word: (r) => r.pick(WORDS),
  ver: (r) => `${r.int(0, 12)}.${r.int(0, 30)}.${r.int(0, 40)}`,
  // HTTP
  method: (r) => r.pick(['GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS']),
  status: (r) => String(r.pick([200, 200, 200, 200, 200, 201, 204, 301, 302, 304, 304, 400, 401, 403, 404, 404, 499, 500, 502, 503, 504])),
  s2xx: (r) => String(r.pick([200, 200, 201, 202, 204, 206])),
  s3xx: (r) => String(r.pick([301, 302, 304, 307, 308])),
  s4xx: (r) => String(r.pick([400, 401, 403, 404, 405, 408, 409, 413, 422, 429])),
  s5xx: (r) => String(r.pick([500, 502, 503, 504])),
  http_path: (r) => r.pick(HTTP_PATHS),
  agent: (r) => r.pick(AGENTS),
  // timestamps in the common formats
  syslog_ts: (r) => { const t = timestamp(r); return `${MONTHS[t.mo - 1]} ${String(t.d).padStart(2, ' ')} ${pad(t.h)}:${pad(t.mi)}:${pad(t.s)}`; },
  iso_ts: (r) => { const t = timestamp(r); return `${t.y}-${pad(t.mo)}-${pad(t.d)}T${pad(t.h)}:${pad(t.mi)}:${pad(t.s)}.${pad(t.ms, 3)}${r.pick(['Z', '+00:00', '+02:00', '-05:00', ''])}`; },
  datetime: (r) => { const t = timestamp(r); return `${t.y}-${pad(t.mo)}-${pad(t.d)} ${pad(t.h)}:${pad(t.mi)}:${pad(t.s)}`; },
  datetime_ms: (r) => { const t = timestamp(r); return `${t.y}-${pad(t.mo)}-${pad(t.d)} ${pad(t.h)}:${pad(t.mi)}:${pad(t.s)}${r.pick([',', '.'])}${pad(t.ms, 3)}`; },
  date: (r) => { const t = timestamp(r); return `${t.y}-${pad(t.mo)}-${pad(t.d)}`; },
  time: (r) => { const t = timestamp(r); return `${pad(t.h)}:${pad(t.mi)}:${pad(t.s)}`; },
  short_ts: (r) => { const t = timestamp(r); return `${String(t.y).slice(2)}/${pad(t.mo)}/${pad(t.d)} ${pad(t.h)}:${pad(t.mi)}:${pad(t.s)}`; },
  compact_ts: (r) => { const t = timestamp(r); return `${String(t.y).slice(2)}${pad(t.mo)}${pad(t.d)} ${pad(t.h)}${pad(t.mi)}${pad(t.s)}`; },
  apache_ts: (r) => { const t = timestamp(r); return `${r.pick(DAYS)} ${MONTHS[t.mo - 1]} ${pad(t.d)} ${pad(t.h)}:${pad(t.mi)}:${pad(t.s)}${r.pick(['', '.' + pad(r.int(0, 999999), 6)])} ${t.y}`; },
  clf_ts: (r) => { const t = timestamp(r); return `${pad(t.d)}/${MONTHS[t.mo - 1]}/${t.y}:${pad(t.h)}:${pad(t.mi)}:${pad(t.s)} ${r.pick(['+0000', '+0100', '-0700'])}`; },
  logcat_ts: (r) => { const t = timestamp(r); return `${pad(t.mo)}-${pad(t.d)} ${pad(t.h)}:${pad(t.mi)}:${pad(t.s)}.${pad(t.ms, 3)}`; },
  klog_ts: (r) => { const t = timestamp(r); return `${pad(t.mo)}${pad(t.d)} ${pad(t.h)}:${pad(t.mi)}:${pad(t.s)}.${pad(r.int(0, 999999), 6)}`; },
  epoch: (r) => String(r.int(1_100_000_000, 1_800_000_000)),
  epoch_ms: (r) => String(r.int(1_100_000_000, 1_800_000_000) * 1000 + r.int(0, 999)),
  uptime: (r) => `${r.int(0, 99999)}.${pad(r.int(0, 999999), 6)}`,
};

/** Canonical severities a generated line can carry; the header slots render them per format. */
export const LEVELS = ['trace', 'debug', 'info', 'notice', 'warn', 'error', 'critical', 'fatal'] as const;
export type Level = (typeof LEVELS)[number];

/** Renderings of a level: `{level}` INFO, `{Level}` Info, `{level_lc}` info, `{level_1}` I, `{level_syslog}` notice/err/crit. */
export function renderLevel(slot: string, level: Level, r: Rng): string | undefined {
  switch (slot) {
    case 'level':
      return { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', notice: 'NOTICE', warn: r.pick(['WARN', 'WARN', 'WARNING']), error: 'ERROR', critical: r.pick(['CRITICAL', 'CRIT', 'SEVERE']), fatal: 'FATAL' }[level];
    case 'Level':
      return { trace: 'Trace', debug: 'Debug', info: 'Info', notice: 'Notice', warn: 'Warning', error: 'Error', critical: 'Critical', fatal: 'Fatal' }[level];
    case 'level_lc':
      return { trace: 'trace', debug: 'debug', info: 'info', notice: 'notice', warn: r.pick(['warn', 'warning']), error: 'error', critical: 'critical', fatal: 'fatal' }[level];
    case 'level_1':
      return { trace: 'V', debug: 'D', info: 'I', notice: 'I', warn: 'W', error: 'E', critical: 'E', fatal: 'F' }[level];
    case 'level_syslog':
      return { trace: 'debug', debug: 'debug', info: 'info', notice: 'notice', warn: r.pick(['warn', 'warning']), error: r.pick(['error', 'err']), critical: r.pick(['crit', 'alert']), fatal: 'emerg' }[level];
    default:
      return undefined;
  }
}
