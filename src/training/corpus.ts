/**
 * Deterministic generator of the project's own labelled training corpus.
 *
 * Every template below was written for this project from general knowledge of how real
 * services log (access logs, OpenStack-style API/compute lines, syslog, Java/Python
 * error lines, key=value structured logs). Nothing is copied from any evaluation set.
 *
 * Template mini-language:
 *   {slot}        a filler from SLOTS (user, ip, host, path, pct, ...)
 *   {a|b|c}       one of the alternatives (an alternative may be empty, may contain slots)
 * Innermost braces are expanded first, so alternatives may contain slots.
 */

import { mulberry32 } from './random.js';

export { mulberry32 };

export interface CorpusRow {
  readonly source: string;
  readonly log_message: string;
  readonly target_label: string;
}

export interface CorpusOptions {
  readonly seed?: number;
  readonly rowsPerLabel?: number;
  /** Only these labels (default: all nine). */
  readonly labels?: readonly string[];
}

export const CORPUS_LABELS = [
  'HTTP Status',
  'Security Alert',
  'Critical Error',
  'Error',
  'Resource Usage',
  'User Action',
  'System Notification',
  'Workflow Error',
  'Deprecation Warning',
  // Background class: routine chatter that belongs to no category. Training on it lets the
  // head say "none of these" instead of forcing every line into a category.
  'Unclassified',
] as const;

export type CorpusLabel = (typeof CORPUS_LABELS)[number];

class Rng {
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
  hex(len: number): string {
    let s = '';
    for (let i = 0; i < len; i++) s += '0123456789abcdef'[this.int(0, 15)];
    return s;
  }
  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${this.pick(['8', '9', 'a', 'b'])}${this.hex(3)}-${this.hex(12)}`;
  }
  float(lo: number, hi: number, digits: number): string {
    return (lo + this.next() * (hi - lo)).toFixed(digits);
  }
}

// ---------------------------------------------------------------------------------------------
// Slot fillers

const FIRST = ['anna', 'bruno', 'chen', 'dmitri', 'elena', 'farah', 'gopal', 'hana', 'ivan', 'julia', 'kofi', 'lena', 'marco', 'nadia', 'omar', 'priya', 'quinn', 'rosa', 'sven', 'tariq', 'uma', 'victor', 'wei', 'yusuf', 'zoe'];
const LAST = ['smith', 'okafor', 'nguyen', 'garcia', 'muller', 'rossi', 'tanaka', 'kowalski', 'silva', 'haddad', 'berg', 'patel', 'novak', 'costa', 'lindqvist'];
const SERVICES = ['billing-api', 'payments', 'invoice-svc', 'crm-core', 'lead-service', 'hr-portal', 'payroll', 'analytics-worker', 'report-builder', 'api-gateway', 'auth-service', 'session-store', 'search-indexer', 'notification-svc', 'mailer', 'inventory', 'order-service', 'checkout', 'catalog', 'ledger', 'etl-runner', 'scheduler', 'object-store', 'metrics-collector', 'user-profile', 'document-service'];
const HOSTS_PREFIX = ['web', 'app', 'db', 'worker', 'cache', 'node', 'edge', 'batch', 'kafka', 'es', 'compute', 'stor'];
const DCS = ['eu-west-1', 'us-east-2', 'fra1', 'ams3', 'sgp1', 'dc2', 'prod', 'stg'];
const COMPONENTS = ['primary database', 'payment processor', 'message broker', 'storage controller', 'authentication backend', 'order database cluster', 'core ledger service', 'load balancer pair', 'cluster control plane', 'etcd quorum', 'primary NFS filer', 'session cache cluster', 'main API cluster', 'billing engine', 'transaction log volume', 'replication manager', 'DNS resolver pool', 'hypervisor host', 'SAN fabric', 'license server'];
const MINOR_COMPONENTS = ['thumbnail generator', 'CSV exporter', 'report renderer', 'PDF converter', 'webhook dispatcher', 'search suggester', 'avatar resizer', 'geo-lookup client', 'currency rate fetcher', 'import parser', 'audit log shipper', 'sitemap builder', 'translation loader', 'email template renderer', 'cache warmer'];
const PATHS = ['/api/v1/users', '/api/v1/orders', '/api/v2/invoices', '/api/v2/customers/search', '/healthz', '/login', '/logout', '/static/js/app.bundle.js', '/static/css/main.css', '/images/logo.png', '/v1/payments/charge', '/graphql', '/api/reports/export', '/admin/settings', '/favicon.ico', '/api/v1/leads', '/api/v1/employees', '/metrics', '/robots.txt', '/api/v3/catalog/items', '/oauth/token', '/webhooks/stripe', '/api/v1/tickets', '/download/statement.pdf', '/index.html', '/api/v1/sessions'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD'];
const STATUS = [200, 200, 200, 200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 404, 405, 408, 409, 413, 422, 429, 500, 502, 503, 504];
const AGENTS = ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36', 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', 'curl/8.5.0', 'python-requests/2.31.0', 'Go-http-client/1.1', 'okhttp/4.12.0', 'kube-probe/1.29', 'Apache-HttpClient/4.5.14 (Java/17.0.9)', 'PostmanRuntime/7.36.1'];
const MODULES = ['LegacyExporter', 'v1 Orders API', 'XmlReportWriter', 'SoapBillingClient', 'basic-auth middleware', 'OldSearch endpoint', 'LeadImport v1', 'sync_users()', 'getInvoiceList', 'PayrollCsvExport', 'ReportScheduler.schedule()', 'crypto.createCipher', 'imp module', 'legacy session API', 'TLS 1.0 support', 'MD5 password hashing', 'jQuery 1.x bundle', 'the /v1/customers route', 'config key db.pool_size', 'ExportToPdfLegacy', 'python2 worker image', 'FetchAccountsV1', 'Swagger 2.0 spec', 'list_employees endpoint', 'the old dashboard widgets', 'XML-RPC interface', 'GetOrderStatus operation', 'flag --use-legacy-auth', 'Node 16 runtime', 'the Classic editor'];
const REPLACEMENTS = ['ModernExporter', 'v2 Orders API', 'JsonReportWriter', 'RestBillingClient', 'OAuth2 middleware', 'SearchV2 endpoint', 'LeadImport v2', 'sync_accounts()', 'listInvoices', 'PayrollParquetExport', 'ReportScheduler.enqueue()', 'crypto.createCipheriv', 'importlib', 'sessions v2 API', 'TLS 1.2+', 'argon2id hashing', 'the ES module build', 'the /v2/customers route', 'config key db.pool.max', 'PdfExportService', 'python3.12 worker image', 'AccountsV2.fetch', 'OpenAPI 3.1', 'employees.list', 'the new dashboard', 'the REST API', 'OrderStatusQuery', 'OIDC login', 'Node 20 runtime', 'the Block editor'];
const FILES = ['quarterly_report.xlsx', 'payroll_march.csv', 'contract_signed.pdf', 'avatar.png', 'customers_export.csv', 'invoice_2291.pdf', 'leads_import.xlsx', 'timesheet_w14.csv', 'budget_2025.ods', 'presentation.pptx', 'scan_0042.tiff', 'notes.txt', 'backup_keys.zip', 'resume_final.docx'];
const PROCESSES = ['invoice generation', 'order fulfilment', 'purchase approval', 'expense reimbursement', 'lead assignment', 'onboarding checklist', 'contract renewal', 'refund processing', 'case escalation', 'ticket routing', 'shipment scheduling', 'payroll run', 'credit check', 'subscription renewal', 'quote approval', 'leave request approval', 'vendor onboarding', 'dunning sequence', 'opportunity handoff', 'customer offboarding'];
const ENTITY = ['order', 'invoice', 'ticket', 'case', 'lead', 'opportunity', 'quote', 'claim', 'shipment', 'contract', 'employee record', 'requisition', 'purchase order'];
const REASONS_WF = ['missing approver', 'no matching routing rule', 'approver is on leave and no delegate is set', 'required field cost_center is empty', 'customer has no billing address', 'SLA policy not found', 'price list expired', 'credit limit exceeded', 'state transition from DRAFT to CLOSED is not allowed', 'assigned team has no members', 'tax profile missing for region', 'duplicate external reference', 'manager hierarchy incomplete', 'queue owner unset', 'contact record lacks an email address', 'escalation tier undefined for this priority'];
const NOTIF_SYS = ['nightly database backup', 'weekly snapshot', 'incremental backup', 'log rotation', 'index rebuild', 'cache purge', 'temp file cleanup', 'certificate renewal', 'package update', 'kernel patch', 'security patch rollout', 'config reload', 'cron job report-daily', 'archive job', 'data retention sweep', 'vacuum of table events', 'NTP resync'];
const LEVELS: Record<CorpusLabel, readonly string[]> = {
  'HTTP Status': ['INFO'],
  'Security Alert': ['WARN', 'WARNING', 'ALERT', 'NOTICE', 'ERROR'],
  'Critical Error': ['CRITICAL', 'FATAL', 'EMERG', 'ALERT', 'ERROR', 'CRIT'],
  Error: ['ERROR', 'ERR', 'ERROR', 'WARN'],
  'Resource Usage': ['INFO', 'WARN', 'DEBUG', 'INFO'],
  'User Action': ['INFO', 'NOTICE', 'INFO'],
  'System Notification': ['INFO', 'NOTICE', 'INFO'],
  'Workflow Error': ['ERROR', 'WARN', 'ERROR'],
  'Deprecation Warning': ['WARN', 'WARNING', 'NOTICE'],
  Unclassified: ['DEBUG', 'TRACE', 'INFO', 'DEBUG'],
};
const SOURCES = ['billing', 'crm', 'hr-portal', 'analytics', 'api-gateway', 'auth', 'storage', 'k8s', 'payments', 'inventory', 'notifications', 'reporting', 'erp', 'web-frontend', 'scheduler', 'compute', 'helpdesk', 'data-platform'];
const JAVA_CLASSES = ['com.acme.billing.InvoiceService', 'org.example.crm.LeadController', 'io.corp.hr.PayrollJob', 'com.shop.order.CheckoutHandler', 'net.data.etl.Loader', 'com.acme.auth.TokenFilter', 'org.example.report.Renderer', 'com.acme.storage.BlobClient'];

const SLOTS: Record<string, (r: Rng) => string> = {
  user: (r) => r.pick([() => `${r.pick(FIRST)}.${r.pick(LAST)}`, () => `${r.pick(FIRST)[0]}${r.pick(LAST)}`, () => `user_${r.int(100, 99999)}`, () => `${r.pick(FIRST)}${r.int(1, 99)}`, () => `emp${r.int(1000, 9999)}`])(),
  uid: (r) => String(r.int(100, 999999)),
  email: (r) => `${r.pick(FIRST)}.${r.pick(LAST)}@${r.pick(['acme.com', 'example.org', 'corp.local', 'mail.test'])}`,
  ip: (r) => r.pick([() => `10.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`, () => `192.168.${r.int(0, 255)}.${r.int(1, 254)}`, () => `${r.int(23, 223)}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`, () => `172.${r.int(16, 31)}.${r.int(0, 255)}.${r.int(1, 254)}`])(),
  host: (r) => `${r.pick(HOSTS_PREFIX)}-${r.int(1, 40)}${r.chance(0.5) ? '.' + r.pick(DCS) : ''}`,
  svc: (r) => r.pick(SERVICES),
  comp: (r) => r.pick(COMPONENTS),
  minor: (r) => r.pick(MINOR_COMPONENTS),
  path: (r) => r.pick(PATHS),
  method: (r) => r.pick(METHODS),
  status: (r) => String(r.pick(STATUS)),
  s4xx: (r) => String(r.pick([400, 401, 403, 404, 405, 409, 422, 429])),
  s5xx: (r) => String(r.pick([500, 502, 503, 504])),
  ms: (r) => String(r.int(1, 4000)),
  secs: (r) => String(r.int(2, 600)),
  dur: (r) => r.pick([() => `${r.int(1, 900)}ms`, () => `${r.int(1, 59)}s`, () => `${r.int(1, 45)}m${r.int(0, 59)}s`, () => `${r.float(0.1, 30, 2)}s`])(),
  pct: (r) => String(r.int(55, 99)),
  lowpct: (r) => String(r.int(1, 40)),
  mb: (r) => String(r.int(64, 65536)),
  gb: (r) => String(r.int(1, 4096)),
  bytes: (r) => String(r.int(120, 5_000_000)),
  size: (r) => r.pick([() => `${r.int(1, 999)} KB`, () => `${r.int(1, 999)} MB`, () => `${r.float(1, 50, 1)} GB`, () => `${r.int(2, 900)}MiB`])(),
  n: (r) => String(r.int(2, 60)),
  bign: (r) => String(r.int(100, 50000)),
  id: (r) => String(r.int(1000, 999999)),
  order: (r) => r.pick([() => `ORD-${r.int(10000, 99999)}`, () => `#${r.int(100000, 999999)}`, () => `SO${r.int(100000, 999999)}`])(),
  ticket: (r) => r.pick([() => `INC${r.int(100000, 999999)}`, () => `TCK-${r.int(1000, 99999)}`, () => `CASE-${r.int(10000, 99999)}`, () => `#${r.int(1000, 99999)}`])(),
  job: (r) => r.pick([() => `job-${r.hex(8)}`, () => `run_${r.int(1000, 99999)}`, () => String(r.int(1000, 99999)), () => `${r.pick(['etl', 'sync', 'export', 'billing', 'reindex'])}-${r.int(100, 9999)}`])(),
  uuid: (r) => r.uuid(),
  hex: (r) => r.hex(r.pick([8, 12, 32])),
  ver: (r) => `${r.int(1, 9)}.${r.int(0, 20)}${r.chance(0.5) ? '.' + r.int(0, 30) : ''}`,
  major: (r) => `${r.int(2, 12)}.0`,
  date: (r) => `20${r.int(24, 26)}-${String(r.int(1, 12)).padStart(2, '0')}-${String(r.int(1, 28)).padStart(2, '0')}`,
  clock: (r) => `${String(r.int(0, 23)).padStart(2, '0')}:${String(r.int(0, 59)).padStart(2, '0')}:${String(r.int(0, 59)).padStart(2, '0')}`,
  module: (r) => r.pick(MODULES),
  repl: (r) => r.pick(REPLACEMENTS),
  file: (r) => r.pick(FILES),
  proc: (r) => r.pick(PROCESSES),
  entity: (r) => r.pick(ENTITY),
  wfreason: (r) => r.pick(REASONS_WF),
  sysjob: (r) => r.pick(NOTIF_SYS),
  pid: (r) => String(r.int(200, 65000)),
  port: (r) => String(r.pick([22, 443, 3306, 5432, 6379, 8080, 9200, 3389, 21, 25])),
  db: (r) => r.pick(['orders', 'customers', 'payroll', 'events', 'ledger', 'sessions', 'crm_main', 'analytics']),
  disk: (r) => r.pick(['/dev/sda', '/dev/sdb', '/dev/nvme0n1', '/dev/nvme1n1', '/dev/sdc', '/dev/md0']),
  mount: (r) => r.pick(['/', '/var', '/var/lib/postgresql', '/data', '/var/log', '/tmp', '/home', '/srv/uploads', '/mnt/backups']),
  pod: (r) => `${r.pick(SERVICES)}-${r.hex(9).slice(0, 9)}-${r.hex(5)}`,
  ns: (r) => r.pick(['default', 'prod', 'billing', 'crm', 'monitoring', 'kube-system', 'data']),
  quarter: (r) => `Q${r.int(1, 4)} ${r.int(2025, 2027)}`,
  country: (r) => r.pick(['RU', 'CN', 'BR', 'NG', 'KP', 'IR', 'VN', 'RO', 'US', 'NL']),
  jclass: (r) => r.pick(JAVA_CLASSES),
  tenant: (r) => r.hex(32),
  noiseword: (r) => r.pick(NOISE_WORDS),
};

// ---------------------------------------------------------------------------------------------
// Templates. `sentences` may be wrapped in a log-style envelope; `raw` lines are complete lines.

interface LabelTemplates {
  readonly sentences: readonly string[];
  readonly raw: readonly ((r: Rng) => string)[];
  /** Probability that a sentence gets an envelope (level, component, syslog ...). */
  readonly wrap: number;
  /** Share of rows drawn from `raw` (when there are any). */
  readonly rawShare: number;
}

const novaReq = (r: Rng): string => `req-${r.uuid()} ${r.hex(32)} ${r.hex(32)} - - -`;
const statusPhrase = (r: Rng, code: string): string =>
  r.pick([`status: ${code}`, `status=${code}`, `code ${code}`, `-> ${code}`, `returned ${code}`, `response ${code}`, `HTTP ${code}`, `result: ${code}`, `status_code ${code}`, `resp=${code}`, `[${code}]`, `sc=${code}`]);
const apacheDate = (r: Rng): string =>
  `${String(r.int(1, 28)).padStart(2, '0')}/${r.pick(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'])}/20${r.int(24, 26)}:${SLOTS.clock(r)} +0000`;

const HTTP_RAW: ((r: Rng) => string)[] = [
  // OpenStack nova API request lines (project-authored, varied status wording)
  (r) => {
    const t = r.hex(32);
    const m = r.pick(['GET', 'GET', 'POST', 'DELETE', 'PUT']);
    const p = r.pick([`/v2/${t}/servers`, `/v2.1/${t}/servers/${r.uuid()}`, `/v2/${t}/flavors/detail`, `/v2/${t}/os-hypervisors`, `/v2/${t}/images`, `/v2.1/${t}/servers/${r.uuid()}/action`, `/v2/${t}/os-keypairs`, `/v2/${t}/limits`, `/v2/${t}/os-availability-zone`, `/v2.1/${t}/servers?name=${r.pick(['web', 'db', 'batch'])}`]);
    return `nova.osapi_compute.wsgi.server [${novaReq(r)}] ${SLOTS.ip(r)} "${m} ${p} HTTP/1.1" ${statusPhrase(r, SLOTS.status(r))} len: ${r.int(150, 20000)} time: ${r.float(0.001, 3, 7)}`;
  },
  (r) => `nova.api.openstack.wsgi [${novaReq(r)}] ${SLOTS.ip(r)} "${r.pick(['GET', 'POST'])} /v2/${r.hex(32)}/${r.pick(['os-services', 'os-aggregates', 'os-quota-sets/' + r.hex(32), 'os-simple-tenant-usage', 'extensions'])} HTTP/1.1" ${statusPhrase(r, SLOTS.status(r))} len: ${r.int(150, 9000)} time: ${r.float(0.001, 2, 7)}`,
  (r) => `nova.metadata.wsgi.server [-] ${SLOTS.ip(r)},${SLOTS.ip(r)} "GET /${r.pick(['openstack/latest/network_data.json', 'openstack/2018-08-27/password', 'latest/meta-data/instance-id', 'latest/meta-data/public-keys/', 'latest/meta-data/hostname', 'latest/user-data', '2009-04-04/meta-data/instance-type', 'openstack/latest/vendor_data2.json'])} HTTP/1.1" ${statusPhrase(r, String(r.pick([200, 200, 404])))} len: ${r.int(100, 3000)} time: ${r.float(0.0005, 0.5, 7)}`,
  (r) => `${r.pick(['neutron.wsgi', 'glance.api.wsgi', 'cinder.api.openstack.wsgi', 'keystone.wsgi'])} [${novaReq(r)}] ${SLOTS.ip(r)} "${SLOTS.method(r)} /v${r.int(1, 3)}/${r.pick(['ports', 'networks', 'images', 'volumes/detail', 'auth/tokens', 'subnets', 'snapshots'])}${r.chance(0.4) ? '/' + r.uuid() : ''} HTTP/1.1" ${statusPhrase(r, SLOTS.status(r))} len: ${r.int(100, 9000)} time: ${r.float(0.001, 2, 7)}`,
  // nginx / apache combined
  (r) => `${SLOTS.ip(r)} - - [${apacheDate(r)}] "${SLOTS.method(r)} ${SLOTS.path(r)} HTTP/1.1" ${SLOTS.status(r)} ${r.int(0, 90000)} "-" "${r.pick(AGENTS)}"`,
  (r) => `${SLOTS.ip(r)} - ${SLOTS.user(r)} [${apacheDate(r)}] "${SLOTS.method(r)} ${SLOTS.path(r)}?page=${r.int(1, 30)} HTTP/2.0" ${SLOTS.status(r)} ${r.int(0, 90000)} "https://${r.pick(['app', 'portal', 'www'])}.acme.com/" "${r.pick(AGENTS)}" rt=${r.float(0.001, 3, 3)}`,
  (r) => `${SLOTS.ip(r)} - - [${apacheDate(r)}] "${SLOTS.method(r)} ${SLOTS.path(r)} HTTP/1.0" ${SLOTS.status(r)} ${r.int(0, 9000)}`,
  // app-level request logs
  (r) => `${SLOTS.method(r)} ${SLOTS.path(r)} ${SLOTS.status(r)} ${r.int(1, 3000)}ms`,
  (r) => `${SLOTS.method(r)} ${SLOTS.path(r)} -> ${SLOTS.status(r)} (${r.int(1, 3000)} ms, ${r.int(0, 90000)} bytes)`,
  (r) => `method=${SLOTS.method(r)} path=${SLOTS.path(r)} status=${SLOTS.status(r)} duration_ms=${r.int(1, 3000)} bytes=${r.int(0, 90000)} client=${SLOTS.ip(r)}`,
  (r) => `request completed method=${SLOTS.method(r)} uri=${SLOTS.path(r)} status=${SLOTS.status(r)} latency=${r.float(0.001, 2, 3)}s`,
  (r) => `[${r.pick(['gateway', 'router', 'ingress', 'http'])}] ${SLOTS.ip(r)} ${SLOTS.method(r)} ${SLOTS.path(r)} HTTP/1.1 ${SLOTS.status(r)} ${r.int(0, 90000)}b ${r.int(1, 3000)}ms`,
  (r) => `${SLOTS.method(r)} ${SLOTS.path(r)} HTTP/1.1 responded with status code ${SLOTS.status(r)} in ${r.int(1, 3000)} ms`,
  (r) => `Completed ${SLOTS.status(r)} ${r.pick(['OK', 'Created', 'Not Found', 'Unprocessable Entity', 'Internal Server Error', 'Forbidden'])} in ${r.int(1, 2000)}ms (Views: ${r.float(0, 90, 1)}ms | ActiveRecord: ${r.float(0, 90, 1)}ms)`,
  (r) => `"${SLOTS.method(r)} ${SLOTS.path(r)} HTTP/1.1" ${SLOTS.status(r)} ${r.int(0, 90000)}`,
  (r) => `${SLOTS.ip(r)} - "${SLOTS.method(r)} ${SLOTS.path(r)} HTTP/1.1" ${SLOTS.status(r)} ${SLOTS.s4xx(r) === '404' ? 'Not Found' : 'OK'}`,
  (r) => `upstream response: ${SLOTS.method(r)} http://${SLOTS.host(r)}:${r.int(3000, 9000)}${SLOTS.path(r)} status=${SLOTS.status(r)} upstream_time=${r.float(0.001, 2, 3)}`,
  (r) => `access ${SLOTS.ip(r)} ${SLOTS.method(r)} ${SLOTS.path(r)} ${SLOTS.status(r)} len=${r.int(0, 90000)} t=${r.float(0.001, 3, 4)}`,
  (r) => `http_request{method="${SLOTS.method(r)}",route="${SLOTS.path(r)}",code="${SLOTS.status(r)}"} served in ${r.int(1, 3000)}ms`,
  (r) => `INFO:     ${SLOTS.ip(r)}:${r.int(30000, 65000)} - "${SLOTS.method(r)} ${SLOTS.path(r)} HTTP/1.1" ${SLOTS.status(r)} ${r.pick(['OK', 'Not Found', 'Bad Request', 'Unauthorized', 'Created'])}`,
  (r) => `127.0.0.1 - - [${apacheDate(r)}] "${SLOTS.method(r)} ${SLOTS.path(r)} HTTP/1.1" ${SLOTS.s5xx(r)} ${r.int(0, 900)} "-" "${r.pick(AGENTS)}"`,
];

const HTTP_SENT = [
  '{GET|POST|PUT|DELETE} request to {path} {returned|completed with|finished with} status {status}',
  'HTTP {status} {returned|sent} for {method} {path}',
  'Response status {status} for {method} {path} ({ms} ms)',
  'Request {uuid} {method} {path} answered {status} after {ms}ms',
  'Outbound call to {svc} {path} got HTTP {status}',
  'Served {method} {path} to {ip} with code {status}, {bytes} bytes',
  'API call {method} {path} status code {status}',
  'client {ip} {method} {path} HTTP/1.1 {status} size={bytes}',
  'Proxy forwarded {method} {path} upstream={host} status={status}',
  'Handled {method} {path}: {status} in {ms}ms',
      '{ip} requested {path} ({method}) -> HTTP {status}',
      'Response sent: {status} {OK|Created|No Content|Not Found|Bad Request|Unauthorized|Service Unavailable} for {method} {path}',
      'Incoming {method} {path} from {ip}; status {status}; {bytes} bytes; {ms} ms',
      '{method} {path} status={status} time={ms}ms',
      'HTTP/1.1 {method} {path} completed: {status}',
      'Got {status} from {svc} for {method} {path}',
      'Request finished: {method} {path} -> {status} ({bytes} B)',
      'API gateway: {method} {path} {status} latency {ms}ms',
      '{method} https://{svc}.internal{path} returned HTTP status {status}',
      'http status {status} on {method} {path} (client {ip})',
];


// Lines that carry no operational meaning for the nine categories: debug traces, progress
// counters, dumps, banners, greetings, free text. Written for this project.
const NOISE_WORDS = ['alpha', 'bravo', 'delta', 'kilo', 'tango', 'orchid', 'granite', 'falcon', 'maple', 'cobalt', 'saffron', 'nebula'];
const NOISE_SENT = [
  '{entering|leaving|exit from|enter} {function|method|handler} {noiseword}_{noiseword}()',
  '{checkpoint|marker|step} {n} {reached|passed|hit}',
  'value {of|for} {noiseword} = {bign}',
  '{noiseword}={n} {noiseword}={n} {noiseword}={noiseword}',
  '{iteration|loop|pass} {n}/{bign}',
  '{processing|handling|visiting} {item|record|element|node} {bign} of {bign}',
  '{hello|hi|hey} {world|there|team|everyone}{|!| :)}',
  '{test|testing|sanity check|smoke} {message|line|entry} {n}{| please ignore| from the dev box}',
  '{todo|fixme|note}: {clean this up|revisit later|rename this variable|ask the team about it}',
  '{=====|-----|*****|#####|~~~~~} {begin|end|start|stop} {of|} {dump|section|block|report} {|=====|-----}',
  '{noiseword} {noiseword} {noiseword} {noiseword}',
  '{dumping|printing|listing} {state|context|variables|settings} {follows|below}:',
  '{tick|tock|beat|poll} {bign}',
  '{waiting|sleeping|idling} for {n} {ms|seconds|ticks}',
  '{ping|pong|noop|keepalive tick|still here}',
  '{locale|timezone|charset} set to {en-GB|de-DE|UTC|Europe/Berlin|UTF-8}',
  'using {noiseword} {strategy|mode|variant} for {noiseword}',
  '{cache|map|buffer} {key|entry} {noiseword}:{n}:{noiseword} {computed|built|derived}',
  '{loaded|read|parsed} {n} {entries|keys|lines|rules} from {noiseword}.{yaml|json|ini|toml}',
  'thread {noiseword}-{n} {started|named|spawned} with priority {n}',
  'build {hex} {compiled|generated} at {clock}',
  '{random|lucky|magic} number is {bign}',
  'the {quick|lazy|sleepy} {fox|dog|cat} {jumps|naps|waits}',
  '{lunch|coffee|standup|retro} {at|in} {n} {minutes|o\'clock}',
  '{config|option|flag} {noiseword}.{noiseword} = {true|false|n|auto}',
  'span {hex} child of {hex}',
  '{serializing|deserializing|encoding|decoding} {noiseword} {payload|frame|object} ({n} fields)',
  '{git|build|release} sha {hex}',
  'greetings from {noiseword} {service|module|team}',
  '{counter|gauge sample|tally} {noiseword} -> {n}',
  '{trace|debug}: {noiseword} {branch|path|case} {taken|skipped|selected}',
  '{version string|banner}: {noiseword} {ver} ({noiseword})',
  '{chunk|segment|page} {n} {of|/} {bign} {queued|visited|rendered}',
  '{starting|opening|closing} {scope|context|section} {noiseword}',
  '{ok|done|ready|fine|all good}',
  '{assert|expect|check} {noiseword} {==|!=|<} {n}: {passed|true|ok}',
  '{rendering|drawing|painting} {frame|widget|tile} {n}',
  '{noiseword} says {hello|hi|good morning}',
  '{reading|scanning} {directory|folder} {noiseword}/{noiseword} ({n} files)',
  '{map|list|set} size {n}, capacity {bign}',
  'feature {noiseword} {variant|bucket} {A|B|C} {selected|assigned} for {request|session} {hex}',
  '{meeting notes|reminder|fyi}: {noiseword} {sync|review|demo} {moved|planned} to {clock}',
];

const DEFAULT_TEMPLATES: Record<CorpusLabel, LabelTemplates> = {
  Unclassified: { sentences: NOISE_SENT, raw: [], wrap: 0.4, rawShare: 0 },

  'HTTP Status': { sentences: HTTP_SENT, raw: HTTP_RAW, wrap: 0.15, rawShare: 0.8 },

  'Security Alert': {
    wrap: 0.35,
    rawShare: 0.12,
    sentences: [
      '{n} failed {login|sign-in|authentication} attempts for user {user} {within|in the last} {n} {minutes|seconds}',
      '{Possible|Suspected|Likely} brute-force attack on {SSH|the login endpoint|the admin portal|RDP} from {ip}',
      'Blocked IP {ip} after {n} consecutive failed logins',
      'Source address {ip} {added to|placed on} the deny list: {credential stuffing|password spraying|port scanning} detected',
      'Unauthorized access attempt to {path} by user {uid}',
      'User {uid} attempted to read {restricted|confidential|classified} records in {db} without permission',
      'Privilege escalation detected: account {user} {added itself to|was silently added to} the {admins|sudoers|domain admins} group',
      'Account {user} locked after {n} invalid password entries',
      '{Unexpected|Unauthorized} role change: user {uid} granted {superuser|admin|root} rights {without approval|outside change window}',
      'Malware signature {Trojan.GenericKD|EICAR-Test|Win32.Emotet|Linux.Mirai} found in {file} uploaded from {ip}',
      'Web application firewall blocked {SQL injection|cross-site scripting|path traversal|remote code execution} attempt from {ip} on {path}',
      'Access token for {user} used from {n} different countries within {n} minutes',
      'Revoked API key {hex} after it was {seen in a public repository|used from an unknown network|replayed}',
      'Invalid JWT signature presented by {ip}; request rejected and flagged',
      'Login for {user} from new location {country} rejected by risk engine',
      '{Intrusion detection|IDS|Suricata|Falco} alert: {suspicious outbound connection|reverse shell pattern|crypto-miner traffic} from {host}',
      'Port scan detected from {ip} against {n} ports on {host}',
      'Repeated {403|401} responses for user {uid} probing {path}',
      'Denied: user {uid} tried to {delete audit logs|disable MFA for another user|export all customer data} without authorization',
      'Anomalous data download by user {uid}: {size} exported in {n} minutes',
      'Possible session hijacking: session {hex} reused from {ip}',
      'Root login attempt over SSH from {ip} refused',
      'Multiple password reset requests for {email} from {ip} flagged as abuse',
      'Certificate pinning failure for {svc}: possible man-in-the-middle',
      'Rate limiter banned {ip} for {n} minutes after {bign} requests to /login',
      'Security policy violation: {user} accessed payroll data outside business hours',
      '{Suspicious|Unusual} sudo usage by {user} on {host}: {cat /etc/shadow|chmod 777 /|useradd backdoor}',
      'Known malicious IP {ip} ({country}) attempted to connect on port {port}',
      'DDoS mitigation engaged: {bign} requests per second from {n} sources',
      'Credential stuffing suspected: {bign} distinct usernames tried from {ip}',
      'User {uid} bypassed two-factor verification using a stale recovery code',
      'Failed MFA challenge {n} times for {user}; account temporarily suspended',
      'Attempt to use disabled account {user} from {ip}',
      'Audit: unapproved access to {db} by service account {svc}',
      'API client {hex} exceeded authorization scope: attempted write on read-only resource {path}',
      'File integrity monitor: {/etc/passwd|/usr/bin/sudo|/etc/ssh/sshd_config} was modified unexpectedly on {host}',
      'Ransomware behaviour suspected on {host}: {bign} files renamed in {n} seconds',
      'Phishing link clicked by {user}; token revoked as precaution',
      'Impossible travel alert for user {user}: logins from {country} and {country} within {n} minutes',
      'Firewall dropped {bign} packets from {ip} matching threat intel feed',
      'Authorization failure: token for user {uid} lacks scope admin:write, request to {path} denied',
      '{Several|Numerous|Many} rejected sign-ins for {user} from {ip}; {possible|potential} account takeover',
      'Security scan found exposed {.env|.git directory|backup archive} at {path}',
      'Escalation of privileges by {user} via {setuid binary|misconfigured sudoers|kernel exploit} detected on {host}',
      'Admin rights {granted to|assigned to|obtained by} user {uid} {outside the approval process|without a change ticket|by an unknown actor}',
      'User {uid} {elevated|promoted} to {administrator|superuser|owner} role {unexpectedly|without authorization}; review required',
      'Role escalation alert: account {uid} now holds {admin|root|billing-admin} permissions',
      'Sign-in {rejected|refused|denied} for user {uid} {n} times in a row',
      'User {uid} {keeps failing|repeatedly failed} authentication; possible password guessing',
      'Access control blocked user {uid} from calling {path}',
      'Host {host} shows {unusual|abnormal|anomalous} {system calls|process activity|outbound traffic}; {possible|suspected} compromise',
      'Suspicious {network|process} behaviour on server {n}; {incident opened|security team notified}',
      'Account {id} {temporarily blocked|locked out} after {repeated|several} failed sign-ins',
      'Data exfiltration {suspected|attempt blocked}: {user} tried to export {size} to an external address',
      'User {uid} {now has|was given|acquired} {admin|administrator|root} {privileges|rights|access} {without a matching request|that nobody approved}',
      '{Unapproved|Unexpected|Illegitimate} privilege {elevation|escalation|grant} for user {uid}',
      'User {uid} {had|saw} {repeated|multiple|consecutive} {authentication|sign-in|login} {failures|rejections} {from {ip}|}',
      'Unauthenticated request to internal API {path} from user {uid} {rejected|blocked}',
    ],
    raw: [
      (r) => `sshd[${SLOTS.pid(r)}]: Failed password for ${r.pick(['invalid user ', ''])}${r.pick(['root', 'admin', 'oracle', 'test', SLOTS.user(r)])} from ${SLOTS.ip(r)} port ${r.int(30000, 65000)} ssh2`,
      (r) => `fail2ban.actions [${SLOTS.pid(r)}]: NOTICE [${r.pick(['sshd', 'nginx-http-auth', 'postfix'])}] Ban ${SLOTS.ip(r)}`,
      (r) => `event=auth_failure user=${SLOTS.user(r)} src_ip=${SLOTS.ip(r)} attempts=${r.int(5, 90)} action=lockout`,
      (r) => `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${SLOTS.ip(r)} user=${r.pick(['root', 'admin'])}`,
      (r) => `ModSecurity: Access denied with code 403 (phase 2). Matched "${r.pick(['union select', '<script>', '../../etc/passwd'])}" [client ${SLOTS.ip(r)}]`,
    ],
  },

  'Critical Error': {
    wrap: 0.35,
    rawShare: 0.12,
    sentences: [
      '{Primary|Master} database {db} is down; all writes are failing',
      '{comp} {has gone offline|became unavailable|stopped responding}: {service outage|full outage|production outage} in progress',
      'Outage: {comp} unreachable from all nodes for {secs}s',
      'RAID array {/dev/md0|/dev/md1|md127} degraded: {n} member disks failed, array is no longer redundant',
      'Disk {disk} failed SMART check and was kicked from the array; {second|another} drive reporting errors',
      'Kernel panic - not syncing: {Fatal exception|VFS: Unable to mount root fs|Attempted to kill init}',
      'Data corruption detected in {db} table {events|orders|ledger_entries}: checksum mismatch on page {id}',
      'Unrecoverable {I/O|storage|replication} error on {host}; manual intervention required',
      'Fatal: {svc} crashed {with signal SIGSEGV|with exit code 137|after an unhandled exception} and cannot restart',
      '{svc} is in a crash loop; {n} restarts in {n} minutes, service unavailable',
      'Cluster {lost quorum|split brain detected|has no elected leader}: {etcd|Consul|ZooKeeper|Patroni} on {host}',
      'Email delivery service is {down|unavailable|completely unavailable}; no notifications are being sent to customers',
      'All outbound mail is failing: {SMTP relay|mail gateway} {unreachable|refusing every connection}, customer notifications {halted|stopped}',
      'Notification platform outage: {sms|push|email} provider {down|unreachable} for all tenants',
      'Payment processing halted: {payment processor|card gateway} {unreachable|returning fatal errors} for every transaction',
      'Filesystem {mount} remounted read-only after journal {abort|corruption}',
      'Transaction log volume full; {db} refused all commits',
      'Core service {svc} failed health checks on every replica; site down',
      'Critical: {comp} failure, failover {did not complete|could not be triggered}',
      'Replication broken between {db} primary and {all|both} replicas; risk of data loss',
      'Out of memory: kernel killed {postgres|java|mysqld} (pid {pid}); {db} database unavailable',
      'Hardware failure on {host}: {memory ECC uncorrectable error|CPU machine check exception|power supply failure|controller failure}',
      'Storage backend {ceph|SAN|NFS filer} reports {n} OSDs down, volumes inaccessible',
      'Certificate for {svc} expired; all TLS handshakes failing, {API|site|checkout} offline',
      'Global configuration store corrupted; services cannot load settings',
      'Encryption key vault unavailable: {svc} cannot decrypt data, all requests failing',
      'Boot failed on {host}: {no bootable device|initramfs unable to find root|GRUB error}',
      'Message broker cluster down; {bign} messages undeliverable and producers blocked',
      'Severe: {comp} {lost|corrupted} its index, service cannot start',
      'Unrecoverable error in {comp}; process aborted with core dump',
      '{Datacenter|Availability zone} {eu-west-1a|us-east-2b|fra1-b|zone-c} power loss: {n} hosts offline',
      'Backup storage {corrupted|unreadable}: last {n} backups cannot be restored',
      'Fatal error in {comp}: {segmentation fault|assertion failed|stack overflow}; {service|system} halted',
      'Critical component {comp} failed (component id {id})',
      'Emergency: {db} cluster has no healthy nodes',
      'PANIC: could not write to file "pg_wal/{hex}": No space left on device',
      'Production {API|website|checkout} down: {bign} consecutive 5xx from all backends',
      'Critical alert: {comp} {is not recoverable|cannot be recovered}; paging on-call',
      'System halted: {kernel oops|watchdog timeout|hung task} on {host}',
      'Ledger integrity check failed: {n} transactions missing after crash',
      'Database {db} {crashed|went down} and cannot recover from WAL',
      'Multiple drives {failed|offline} in storage pool {tank|pool0|vol1}; pool state FAULTED',
      'System-wide configuration {corruption|damage} detected; {services|nodes} refusing to start',
      'Configuration {integrity check|validation} failed {on every node|across the cluster}: settings {tampered with|corrupted|unreadable}',
      'Core {module|component|subsystem} {failure|crash}: {comp} {is down|not operational}',
      '{Severe|Fatal|Critical} {fault|failure} in {comp}; {no automatic recovery possible|service cannot continue}',
      'Irrecoverable {fault|failure} in {core|central|primary} {engine|module|service} {svc}',
      'Email {service|platform} {outage|failure} is {impacting|blocking} {all users|customers|order confirmations}',
      'Mail subsystem down: outbound {email|notification} delivery {stopped|failed} {for all tenants|platform-wide}',
      '{Operating system|Host} {host} failed to boot: {kernel panic|corrupted initrd|root filesystem missing}',
    ],
    raw: [
      (r) => `kernel: [${r.float(1, 99999, 6)}] Kernel panic - not syncing: ${r.pick(['Fatal exception in interrupt', 'Out of memory and no killable processes', 'hung_task: blocked tasks'])}`,
      (r) => `kernel: md/raid${r.pick(['1', '5', '6', '10'])}:md${r.int(0, 3)}: Disk failure on ${r.pick(['sdb1', 'sdc1', 'nvme1n1p1'])}, disabling device. Operation continuing on ${r.int(0, 2)} devices`,
      (r) => `FATAL  ${SLOTS.jclass(r)} - Unrecoverable failure, shutting down: java.lang.OutOfMemoryError: Java heap space`,
      (r) => `systemd[1]: ${SLOTS.svc(r)}.service: Start request repeated too quickly. Failed with result 'exit-code'; critical unit down`,
      (r) => `level=fatal msg="${r.pick(['cannot open database', 'storage unavailable', 'cluster unreachable'])}" component=${SLOTS.svc(r)} err="${r.pick(['connection refused', 'i/o error', 'corrupted header'])}"`,
    ],
  },

  Error: {
    wrap: 0.4,
    rawShare: 0.15,
    sentences: [
      'Failed to {send|deliver} {email|notification|reminder} to {email}: {SMTP timeout|mailbox unavailable|550 recipient rejected|connection reset}',
      'Could not {send|dispatch} password reset email to {email}; will retry later',
      'Mail {server|relay} {returned an error|timed out} while sending {invoice|receipt|welcome} email for {order}',
      'Timeout after {ms}ms calling {svc} {path}',
      'Request to {svc} failed: connection refused ({ip}:{port})',
      'Validation failed for payload from {svc}: field {amount|email|date_of_birth|currency} {is required|has invalid format|must be positive}',
      'File not found: {/var/data/imports|/srv/uploads|/tmp/exports}/{file}',
      'Could not parse configuration file {config.yaml|settings.json|app.ini}: {unexpected token|invalid indentation} at line {n}',
      'Retries exhausted ({n}/{n}) for {job}; giving up',
      'Job {job} failed with exit code {n}',
      'Replication of partition {n} to {host} failed; {will retry|retry scheduled}',
      'Sync of {db} shard {n} {did not finish|aborted} due to a network error',
      'Node {host} {rebooted|restarted} unexpectedly while {importing|exporting|migrating} {db} data; batch {job} incomplete',
      'Worker {host} died during {data import|reindex|export}; {n} records not processed',
      'Input format error in {minor}: {expected CSV header|unexpected end of file|invalid UTF-8 sequence}',
      '{minor} rejected malformed input {from|in} {file}',
      'Health check for {svc} failed: {TLS certificate not yet valid|certificate chain incomplete|hostname mismatch in certificate}',
      'SSL handshake with {svc} failed: {unknown CA|certificate expired}; request aborted',
      'Cannot connect to {cache|redis|memcached} at {ip}:{port}; falling back to database',
      'Deadlock detected on table {db}; transaction rolled back',
      'Unique constraint violation inserting into {db}: duplicate key {id}',
      'Failed to write {file} to object storage: {403 Forbidden|checksum mismatch|upload interrupted}',
      'Exception in {jclass}: NullPointerException at line {n}',
      'Unhandled {ValueError|KeyError|TypeError} in {svc} handler for {path}',
      '{minor} failed to render {file}: {missing font|template variable undefined}',
      'Webhook delivery to {svc} failed with HTTP {s5xx}; attempt {n} of {n}',
      'Payment {order} declined by gateway: {insufficient funds|card expired|do not honor}',
      'Could not acquire lock {hex} within {dur}',
      'Error reading message from queue {orders|events|emails}: {deserialization error|unknown schema version}',
      'DNS lookup for {svc}.internal failed: {NXDOMAIN|SERVFAIL|timeout}',
      'Query on {db} timed out after {secs}s',
      'Error while processing record {id}: {invalid date|amount overflow|missing currency}',
      'Export {job} failed: disk quota exceeded for {user}',
      '{Unable to|Could not} load plugin {minor}: {module not found|incompatible version}',
      'Upstream {svc} returned {s5xx}; request {uuid} failed',
      'Error: could not resize image {file}: unsupported format',
      'Scheduled report {job} errored: {data source unavailable|query syntax error}',
      'Consumer {svc} failed to commit offset for partition {n}: {rebalance in progress|coordinator not available}',
      'Cache refresh for {svc} failed; serving stale data',
      'Connection pool exhausted for {db}; request {uuid} failed',
      'Data {sync|copy|transfer} to {host} {was interrupted|failed}; {n} rows pending',
      'SMTP error {421|451|554} while delivering {notification|alert} email to {email}',
      'Process {svc} restarted unexpectedly during {nightly import|data load|reconciliation}; job marked failed',
      'Replication job for {shard|partition} {n} {failed|did not complete|was aborted}; {will retry|retrying in {n}s}',
      '{Shard|Partition} {n} {sync|copy|replication} {unsuccessful|error}: {checksum mismatch|peer timed out|stream reset}',
      'Unplanned restart of {host} {interrupted|broke} the {data migration|bulk import|export} job {job}',
      '{host} {went down|shut down unexpectedly|crashed} while {syncing|transferring|validating} data; task {job} failed',
      'Health probe for {svc} {failed|unsuccessful}: {TLS certificate invalid|SSL certificate expired|certificate verification error}',
      'Certificate validation error during health check of {svc}',
      '{minor} could not process input: {wrong field count|bad encoding|unexpected format}',
      'Invalid {payload|input|record} format {received by|in} {minor}',
      '{Email|Notification|SMS} {dispatch|delivery} {failed|error} for {user}: {provider rejected message|timeout}; {queued for retry|will retry}',
      'Mail {server|provider} {had trouble|failed} delivering message {id}',
      '{Unplanned|Unscheduled|Unexpected} {shutdown|reboot|restart} of {host} {during|in the middle of} {data export|data sync|file transfer|record validation}; the task {failed|must be rerun}',
      '{Data export|Sync run|Import batch} {job} {broken off|failed} because {host} {rebooted|powered off} without warning',
    ],
    raw: [
      (r) => `Traceback (most recent call last): File "/app/${r.pick(['worker', 'tasks', 'importer'])}.py", line ${r.int(10, 900)}, in ${r.pick(['run', 'process', 'handle'])} ${r.pick(['KeyError', 'ValueError', 'ConnectionError', 'FileNotFoundError'])}: '${r.pick(['customer_id', 'amount', 'data.csv', 'host unreachable'])}'`,
      (r) => `ERROR ${SLOTS.jclass(r)} - ${r.pick(['java.net.SocketTimeoutException: Read timed out', 'java.io.FileNotFoundException: ' + SLOTS.file(r), 'java.lang.IllegalArgumentException: invalid amount', 'org.springframework.dao.DataIntegrityViolationException'])}`,
      (r) => `level=error msg="${r.pick(['request failed', 'failed to send email', 'upload failed', 'sync failed'])}" err="${r.pick(['context deadline exceeded', 'EOF', 'connection reset by peer', '550 mailbox unavailable'])}" svc=${SLOTS.svc(r)}`,
      (r) => `Error: ENOENT: no such file or directory, open '/srv/app/${r.pick(['uploads', 'tmp', 'config'])}/${SLOTS.file(r)}'`,
      (r) => `Warning  BackOff  pod/${SLOTS.pod(r)}  Back-off restarting failed container`,
    ],
  },

  'Resource Usage': {
    wrap: 0.3,
    rawShare: 0.45,
    sentences: [
      'CPU usage on {host} at {pct}%{| for the last {n} minutes}',
      'Memory usage {host}: {mb} MB used of {mb} MB',
      'Disk usage on {mount} is {pct}% ({gb} GB of {gb} GB)',
      '{svc} heap usage {pct}% ({mb}MB/{mb}MB)',
      'Used {mb} MB of {mb} MB memory quota in namespace {ns}',
      'Storage quota for tenant {uid}: {gb} GB used of {gb} GB',
      'Load average on {host}: {lowpct}.{n} {lowpct}.{n} {lowpct}.{n}',
      'High memory utilisation on {host}: {pct}% of RAM in use',
      'Disk space low on {mount}: {lowpct}% free',
      'Threshold crossed: {cpu|memory|disk} on {host} above {pct}%',
      'Inode usage on {mount} reached {pct}%',
      'Connection pool {db}: {n} of {n} connections in use',
      'Network throughput on eth0: {bign} Mbit/s in, {bign} Mbit/s out',
      'Swap usage {pct}% on {host}',
      'Container {pod} using {mb}Mi memory (limit {mb}Mi), CPU {n}00m',
      'Bandwidth quota {pct}% consumed for account {uid}',
      'GPU {n} utilisation {pct}%, memory {mb} MiB / {mb} MiB',
      'Queue depth for {svc} at {bign} messages ({pct}% of capacity)',
      'API rate usage for client {hex}: {bign} of {bign} requests this hour',
      'Capacity report: cluster at {pct}% vCPU allocation, {pct}% memory allocation',
      'Resource check: {n} vCPUs allocated of {n} available on {host}',
      'File descriptors: {bign} open of {bign} allowed for {svc}',
      'Database {db} size is {gb} GB, growing {n} GB per day',
      'Thread pool {svc}: active={n} max={n} queued={bign}',
      'Memory footprint of {svc} grew to {mb} MB',
      'Available memory on {host} dropped to {mb} MB',
      'Storage volume {uuid} is {pct}% full',
      '{cpu|memory|disk I/O} utilisation for {svc} averaged {pct}% over {n} minutes',
      'Quota warning: project {uid} has used {n} of {n} instances',
      'Compute node {host} has {mb} MB RAM and {gb} GB disk free',
      'Metrics: cpu={pct}% mem={pct}% disk={pct}% host={host}',
      'Resource claim for instance {uuid}: {mb} MB RAM, {gb} GB disk, {n} vCPU',
      'Requested {n} vCPUs and {mb} MB memory for instance {uuid}; {n} vCPUs remain on host',
      'Cache {svc} holding {mb} MB ({pct}% of maximum)',
      'Write IOPS on {disk}: {bign}, read IOPS: {bign}',
      'Elasticsearch JVM heap at {pct}% on {host}',
      'Object storage bucket {db}-archive now holds {gb} GB across {bign} objects',
      'Kafka broker {host} disk usage {pct}% with {bign} partitions',
      'Tenant {hex} consumes {pct}% of the shared CPU pool',
      'Usage summary: {mb} MiB memory, {n} cores, {gb} GiB storage in use',
    ],
    raw: [
      (r) => `nova.compute.claims [${novaReq(r)}] [instance: ${r.uuid()}] ${r.pick([
        `memory limit ${r.int(16000, 128000)}.00 MB, free ${r.int(1000, 128000)}.00 MB`,
        `Total disk usage: ${r.int(10, 900)} GB of ${r.int(900, 4000)} GB`,
        `disk limit: ${r.int(100, 4000)}.00 GB, free: ${r.int(10, 4000)}.00 GB`,
        `vcpu limit: ${r.int(8, 96)}.00 VCPU, free: ${r.int(0, 96)}.00 VCPU`,
        `Memory overhead for ${r.int(512, 16384)} MB instance; ${r.int(0, 256)} MB`,
        `Claim successful on node ${SLOTS.host(r)}: memory ${r.int(512, 16384)} MB, disk ${r.int(1, 200)} GB, vcpus ${r.int(1, 16)}`,
        `Requested resources: RAM ${r.int(512, 16384)} MB, root disk ${r.int(1, 200)} GB, ${r.int(1, 16)} vcpu(s)`,
        `memory usage ${r.int(512, 64000)} MB out of ${r.int(64000, 256000)} MB`,
        `vcpus in use ${r.int(1, 40)} of ${r.int(40, 96)}`,
        `disk available ${r.int(10, 900)} GB, requested ${r.int(1, 200)} GB`,
        `cpu limit not set, no limit enforced`,
        `ram limit not configured, treating as unlimited`,
      ])}`,
      (r) => `nova.compute.resource_tracker [${novaReq(r)}] ${r.pick([
        `Hypervisor resources: free_ram=${r.int(1000, 128000)}MB free_disk=${r.int(10, 4000)}GB free_vcpus=${r.int(0, 64)}`,
        `Compute_service record updated for ${SLOTS.host(r)}:${SLOTS.host(r)}`,
        `Auditing locally available compute resources for node ${SLOTS.host(r)}`,
        `Allocated vcpus ${r.int(1, 64)} out of ${r.int(32, 96)} usable`,
        `Resource summary host=${SLOTS.host(r)} ram_total=${r.int(32000, 256000)}MB ram_used=${r.int(512, 64000)}MB disk_total=${r.int(100, 4000)}GB disk_used=${r.int(1, 900)}GB vcpus_total=${r.int(8, 96)} vcpus_used=${r.int(0, 40)}`,
        `Instance ${r.uuid()} uses ${r.int(512, 16384)} MB of memory and ${r.int(1, 16)} vCPU`,
      ])}`,
      (r) => `node_exporter host=${SLOTS.host(r)} cpu_util=${r.float(1, 99, 1)} mem_used_bytes=${r.int(1e8, 6e10)} disk_used_pct=${r.float(1, 99, 1)}`,
      (r) => `Filesystem ${SLOTS.disk(r)} ${r.int(10, 900)}G ${r.int(1, 800)}G ${r.int(1, 300)}G ${r.int(5, 99)}% ${SLOTS.mount(r)}`,
      (r) => `top - ${SLOTS.clock(r)} up ${r.int(1, 300)} days, load average: ${r.float(0, 20, 2)}, ${r.float(0, 20, 2)}, ${r.float(0, 20, 2)}; Mem: ${r.int(8000, 256000)} total, ${r.int(100, 8000)} free`,
      (r) => `kubelet: pod/${SLOTS.pod(r)} cpu=${r.int(10, 4000)}m memory=${r.int(32, 8192)}Mi (requests cpu=${r.int(10, 2000)}m memory=${r.int(32, 4096)}Mi)`,
    ],
  },

  'User Action': {
    wrap: 0.3,
    rawShare: 0.1,
    sentences: [
      'User {user} {signed in|logged in|authenticated} {successfully|} {from {ip}|via SSO|with MFA|}',
      'User {user} {signed out|logged off|ended the session}',
      '{user} {logged in|signed in} to {the admin console|the dashboard|the HR portal|the CRM}',
      'Session {hex} closed by user {uid}',
      'New account {id} {registered|created|opened} by {user}',
      '{user} created a new user account {user}',
      'User {uid} {changed|updated|reset} their password',
      '{user} updated profile: {display name|phone number|time zone|avatar} changed',
      'User {user} {uploaded|attached} {file} ({size})',
      'User {user} downloaded {file}',
      '{user} exported {n} contacts to CSV',
      'User {uid} {enabled|disabled} two-factor authentication',
      '{user} {deleted|archived} {entity} {id}',
      '{user} invited {email} to workspace {svc}',
      'User {user} changed email address to {email}',
      'User {uid} {accepted|declined} the terms of service',
      '{user} {subscribed to|unsubscribed from} the {weekly digest|product newsletter}',
      'Account {id} {deactivated|closed} at the request of {user}',
      '{user} added {n} items to cart',
      '{user} placed order {order}',
      'User {user} shared {file} with {user}',
      '{user} {renamed|moved} folder {reports|invoices|drafts} to {archive|shared}',
      'User {uid} updated notification preferences',
      '{user} generated a new API token',
      '{user} {assigned|reassigned} {ticket} to {user}',
      'Admin {user} {reset the password for|unlocked} user {user}',
      'User {user} viewed report {job}',
      '{user} switched language to {German|French|Spanish|Japanese}',
      'User {uid} {joined|left} team {billing|analytics|support}',
      '{user} submitted {expense report|timesheet|leave request} {id}',
      'Profile picture changed by {user}',
      'Login: {user} ({uid}) from {ip} at {clock}',
      'Logout: {user} after {n} minutes of activity',
      '{user} approved {entity} {id}',
      '{user} commented on {ticket}',
      'User {user} connected {Google Drive|Slack|GitHub} integration',
      '{user} bookmarked dashboard {job}',
      'User {user} updated billing address',
      '{user} requested data export of their account',
      '{user} {started|joined} a screen-sharing session',
      'User {user} {logged|signed} {in|out} {from {ip}|}',
      '{user} {opened|closed} a session',
      'Account {id} created{| by {user}}{| via signup form}',
      '{user} {updated|edited} {their|the} {profile|settings|address book}',
    ],
    raw: [
      (r) => `audit action=${r.pick(['login', 'logout', 'password_change', 'file_upload', 'file_download', 'profile_update', 'account_create'])} actor=${SLOTS.user(r)} ip=${SLOTS.ip(r)} result=success`,
      (r) => `event=user.${r.pick(['signed_in', 'signed_out', 'created', 'updated', 'deleted'])} user_id=${SLOTS.uid(r)} session=${r.hex(12)}`,
      (r) => `sshd[${SLOTS.pid(r)}]: Accepted publickey for ${SLOTS.user(r)} from ${SLOTS.ip(r)} port ${r.int(30000, 65000)} ssh2`,
      (r) => `sudo: ${SLOTS.user(r)} : TTY=pts/${r.int(0, 9)} ; PWD=/home/${SLOTS.user(r)} ; USER=root ; COMMAND=/usr/bin/systemctl status ${SLOTS.svc(r)}`,
    ],
  },

  'System Notification': {
    wrap: 0.35,
    rawShare: 0.12,
    sentences: [
      '{sysjob} {finished|completed|done} {successfully|without errors|} in {dur}',
      '{Nightly|Scheduled|Daily} backup of {db} {finished|completed}: {size} written to {s3://backups|/mnt/backups|tape pool 2}',
      'Backup job {job} {started|kicked off} at {clock}',
      'Backup job {job} {ended|finished} at {date} {clock}',
      'Snapshot {hex} of volume {uuid} created',
      'System {upgraded|patched|moved} to {release|version} {ver}',
      '{svc} {upgraded|updated} from {ver} to {ver}',
      '{n} package updates installed on {host}; {no reboot required|reboot scheduled for {clock}}',
      'Service {svc} restarted {after config change|by deployment {job}|on schedule}',
      '{svc} started on port {port}',
      'Server {host} rebooted {for maintenance|by administrator {user}|after kernel update}; all services up',
      'Reboot of {host} {requested|scheduled} by {user}',
      'Disk cleanup on {host} {freed|reclaimed} {size}',
      'Removed {bign} temporary files from {mount}',
      'Cache {cleared|flushed|invalidated} for {svc}',
      'TLS certificate for {svc}.acme.com renewed, valid until {date}',
      'Log files rotated and compressed on {host}',
      'Cron job {job} executed {successfully|on schedule}',
      'Scheduled maintenance window {starts|ended} at {clock} UTC',
      'Configuration reloaded for {svc}; {n} settings changed',
      'Deployment {job} of {svc} version {ver} completed',
      'Index rebuild for {db} finished in {dur}',
      'Database {db} vacuum completed, {size} reclaimed',
      'Time synchronised with NTP server {ip}; offset {ms}ms',
      'Health check passed for {svc} ({n}/{n} replicas ready)',
      'Failover test completed; {host} returned to standby',
      'Data retention sweep deleted {bign} expired records',
      'Replica {host} caught up with primary',
      'Node {host} joined the cluster',
      'Autoscaler added {n} nodes to pool {ns}',
      'Import of {file} {completed|finished}: {bign} rows loaded',
      'Upload of {file} {completed|finished}, checksum verified',
      'File {file} {received|stored|transferred} successfully{| from SFTP drop}',
      'Archive of {date} logs moved to cold storage',
      'System {startup|boot} completed in {dur}',
      'Feature flag {new-checkout|dark-mode|beta-reports} enabled for {n}% of users',
      'Maintenance mode {enabled|disabled} for {svc}',
      'Report {job} generated and emailed to subscribers',
      'Antivirus definitions updated to {ver}',
      'Scheduled {weekly|daily} job {job} completed, next run at {clock}',
      'Firmware on {host} updated to {ver}',
      'Search index for {svc} refreshed',
      'Restore test of backup {job} succeeded',
      '{Reboot|Restart} of {host} {initiated|triggered|started} by {administrator|operator|user} {user}',
      'System {reboot|shutdown|restart} {initiated|requested} by {user}{| for maintenance}',
      'The system is going down for reboot{| NOW}{| (issued by {user})}',
      'Host {host} back online after {planned|scheduled} reboot',
      'Backup run {job} {began|kicked off} {date} {clock} UTC',
      'Backup run {job} {wrapped up|completed} {date} {clock} UTC; {size} archived',
      'Disk cleanup {finished|done} on {mount}',
      'Software update to {ver} {applied|installed} {successfully|}',
      'File {file} {upload|transfer} {completed|succeeded}{| for {user}}; stored in {s3://uploads|/srv/uploads}',
    ],
    raw: [
      (r) => `systemd[1]: ${r.pick(['Started', 'Stopped', 'Reloaded', 'Finished'])} ${r.pick([SLOTS.svc(r) + '.service', 'Daily apt upgrade and clean activities', 'Rotate log files', 'Cleanup of Temporary Directories', 'Certbot renewal'])}.`,
      (r) => `CRON[${SLOTS.pid(r)}]: (root) CMD (${r.pick(['/usr/local/bin/backup.sh', 'certbot renew --quiet', 'logrotate /etc/logrotate.conf', '/opt/scripts/cleanup_tmp.sh'])})`,
      (r) => `Normal   Scheduled  pod/${SLOTS.pod(r)}  Successfully assigned ${SLOTS.ns(r)}/${SLOTS.pod(r)} to ${SLOTS.host(r)}`,
      (r) => `level=info msg="${r.pick(['backup finished', 'update applied', 'service restarted', 'cache cleared', 'cleanup done'])}" job=${SLOTS.job(r)} duration=${SLOTS.dur(r)}`,
    ],
  },

  'Workflow Error': {
    wrap: 0.35,
    rawShare: 0.08,
    sentences: [
      '{proc} failed for {entity} {id}: {wfreason}',
      '{Escalation|Case escalation} of {ticket} {failed|could not be completed}: {wfreason}',
      'Invoice generation aborted for {order}: {wfreason}',
      'Order {order} stuck in {PENDING_APPROVAL|AWAITING_PAYMENT|PICKING}: {proc} step failed',
      'Approval workflow {job} {rejected|halted} at step {n}: {wfreason}',
      'Ticket {ticket} could not be routed: {wfreason}',
      'Lead {id} could not be {converted|assigned} to an opportunity: {wfreason}',
      'Step "{proc}" of workflow {job} {errored|failed}; downstream steps skipped',
      'Workflow {job} terminated: {proc} returned an invalid state',
      '{proc} for {entity} {id} rolled back after step {n} failed',
      'Follow-up task for {entity} {id} not created: {wfreason}',
      'Assignment of {ticket} to team {billing|tier-2|field-ops} failed: {wfreason}',
      'Business rule {BR-{n}|discount_cap|sla_breach} blocked {entity} {id}: {wfreason}',
      'Purchase order {order} approval chain broken: {wfreason}',
      'Refund for {order} could not proceed: {wfreason}',
      'Onboarding flow for employee {id} halted at {background check|equipment request|account provisioning}: {wfreason}',
      'Could not advance {entity} {id} to next stage: {wfreason}',
      'SLA timer for {ticket} could not start: {wfreason}',
      'Workflow engine: transition {submit|approve|close|reopen} on {entity} {id} failed',
      'Automated {proc} skipped {n} records due to {wfreason}',
      'Contract {id} renewal workflow failed: {wfreason}',
      'Shipment for {order} could not be scheduled: {wfreason}',
      'Payroll run {job} aborted for {n} employees: {wfreason}',
      'Quote {id} stuck awaiting approval: {wfreason}',
      'Process instance {uuid} incident raised at task {proc}: {wfreason}',
      'Case {ticket} escalation rule did not fire: {wfreason}',
      'Unable to complete {proc}: {wfreason}',
      'Dunning step {n} for invoice {id} failed: {wfreason}',
      '{proc} pipeline for {entity} {id} ended in state FAILED',
      'Task handoff from {user} to {user} failed for {ticket}: {wfreason}',
      'Customer {id} offboarding did not finish: {wfreason}',
      'Order {order} fulfilment halted: {inventory reservation|carrier booking|payment capture} step failed',
      'Leave request {id} cannot be approved: {wfreason}',
      'Expense claim {id} routed to nobody: {wfreason}',
      'Subscription {id} renewal workflow aborted at billing step',
      'Vendor {id} onboarding rejected by workflow: {wfreason}',
      'Opportunity {id} handoff to account management failed',
      'BPM: {proc} ({job}) {failed|errored} - {wfreason}',
      'Reminder sequence for {entity} {id} stopped: next action undefined',
      'Priority assignment for {ticket} failed: {wfreason}',
    ],
    raw: [
      (r) => `workflow=${r.pick(['invoice', 'approval', 'routing', 'onboarding', 'fulfilment'])} instance=${r.uuid()} step=${r.int(1, 12)} state=failed reason="${SLOTS.wfreason(r)}"`,
      (r) => `camunda: Incident created for process '${r.pick(['orderApproval', 'caseEscalation', 'leadConversion', 'invoiceRun'])}' activity '${r.pick(['Task_Approve', 'Task_Route', 'Task_Notify'])}': ${SLOTS.wfreason(r)}`,
    ],
  },

  'Deprecation Warning': {
    wrap: 0.35,
    rawShare: 0.1,
    sentences: [
      '{module} is deprecated{| and will be removed in {version|release|v}{major}}{; use|. Use|, please use|. Switch to|. Migrate to} {repl}{| instead}',
      '{module} has been deprecated since {ver}{| and will be removed in {major}}',
      'Deprecated: {module} will be {removed|dropped|retired} in {major}; {use|migrate to} {repl}',
      '{Support for|Usage of} {module} {ends|will end} on {date}{|; {move|switch} to {repl}}',
      'DeprecationWarning: {module} is deprecated, use {repl}',
      'Call to deprecated {function|method|endpoint} {module}{| from {svc}}',
      '{module} is scheduled for removal in {quarter}{|; {repl} replaces it}',
      '{module} is obsolete and will stop working after {date}',
      'Warning: {module} will no longer be supported {after|from} {major}',
      'The {module} {API|feature|option} is {deprecated|legacy} and {will be sunset|is being phased out}{|; see migration guide}',
      'Client used deprecated {header|parameter|endpoint} {module}; {repl} is the supported replacement',
      '{module} is end-of-life; upgrade to {repl} before {quarter}',
      '{n} calls to deprecated {module} in the last hour',
      'Sunset header sent for {module}: retirement date {date}',
      '{module} will be {disabled|turned off} by default in {major}',
      'Configuration option {module} is deprecated and ignored; set {repl}',
      '[DEPRECATION] {module} {is going away|is slated for removal}; prefer {repl}',
      'Legacy {module} still in use by {svc}; {it will be removed|removal planned} in {major}',
      '{module} is outdated. Please {switch|migrate|move} to {repl}{| before {quarter}}',
      'Using {module} is discouraged and will raise an error in {major}',
      '{module} {endpoint|API|method} is deprecated; callers should {use|switch to} {repl}',
      'Heads up: {module} {will be retired|goes away} in {quarter}',
      'Legacy {module} {remains available|is supported} only until {date}',
      '{module}: deprecated, replaced by {repl}',
      '{module} support {will be discontinued|is discontinued} {after|from} {date}',
      'Please migrate from {module} to {repl}{| by {quarter}}',
      '{module} is marked deprecated in {ver}',
      'Deprecated {config key|flag|setting} {module} used in {svc}; {repl} should be used',
      '{module} will be removed {soon|in a future release|in the next major version}',
      'Planned removal: {module} in {major} ({repl} is the successor)',
      'The {module} {integration|connector|plugin} is deprecated and will stop receiving updates',
      '{svc} still calls {module}, which is {deprecated|sunset}',
      'Obsolete {module} detected{|; upgrade to {repl}}',
      'End of support notice for {module}: {date}',
      '{module} has been superseded by {repl} and will be removed in {major}',
      'WARNING: {module} is deprecated{| and insecure}',
      'API version {v1|v2|2019-10-01} is deprecated; requests will fail after {date}',
      'Browser support for {Internet Explorer 11|legacy Edge} is deprecated and ends in {quarter}',
      'Python {3.7|3.8} runtime is deprecated for {svc}; upgrade to 3.12',
      'Field {customer_name|legacy_id|phoneNumber} in {module} is deprecated; read {repl} instead',
    ],
    raw: [
      (r) => `(node:${SLOTS.pid(r)}) [DEP0${r.int(100, 190)}] DeprecationWarning: ${r.pick(['Buffer() is deprecated due to security and usability issues', 'crypto.createCipher is deprecated', 'url.parse() behavior is not standardized', 'The `punycode` module is deprecated'])}`,
      (r) => `/app/${r.pick(['worker', 'api', 'tasks'])}.py:${r.int(10, 900)}: ${r.pick(['DeprecationWarning', 'FutureWarning', 'PendingDeprecationWarning'])}: ${SLOTS.module(r)} is deprecated; use ${SLOTS.repl(r)} instead`,
      (r) => `WARN ${SLOTS.jclass(r)} - Method ${r.pick(['getLegacyId()', 'setTimeoutMillis(int)', 'openConnection()'])} is deprecated and marked for removal in ${SLOTS.major(r)}`,
      (r) => `Warning: ${r.pick(['apiextensions.k8s.io/v1beta1', 'policy/v1beta1 PodSecurityPolicy', 'extensions/v1beta1 Ingress', 'batch/v1beta1 CronJob'])} is deprecated in v1.${r.int(19, 25)}+, unavailable in v1.${r.int(22, 30)}+`,
    ],
  },
};

// ---------------------------------------------------------------------------------------------
// Expansion

const BRACE = /\{([^{}]*)\}/;

export function expandTemplate(template: string, r: Rng): string {
  let out = template;
  // Literal braces that are neither a slot nor alternatives are protected with sentinels.
  for (let guard = 0; guard < 200; guard++) {
    const m = BRACE.exec(out);
    if (!m) break;
    const body = m[1];
    let rep: string;
    if (body.includes('|')) rep = r.pick(body.split('|'));
    else if (SLOTS[body]) rep = SLOTS[body](r);
    else rep = `\u0001${body}\u0002`;
    out = out.slice(0, m.index) + rep + out.slice(m.index + m[0].length);
  }
  return out.replace(/\u0001/g, '{').replace(/\u0002/g, '}').replace(/\s+/g, ' ').replace(/\s+([,;:.)])/g, '$1').trim();
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function envelope(label: CorpusLabel, message: string, r: Rng): string {
  const lvl = r.pick(LEVELS[label]);
  const svc = SLOTS.svc(r);
  switch (r.int(0, 6)) {
    case 0:
      return `[${svc}] ${message}`;
    case 1:
      return `${lvl}: ${message}`;
    case 2:
      return `level=${lvl.toLowerCase()} service=${svc} msg="${message.replace(/"/g, "'")}"`;
    case 3:
      return `${SLOTS.date(r)}T${SLOTS.clock(r)}.${r.int(100, 999)}Z ${lvl} [${r.pick(['main', 'worker-' + r.int(1, 16), 'http-nio-8080-exec-' + r.int(1, 40), 'scheduler-1'])}] ${SLOTS.jclass(r)} - ${message}`;
    case 4:
      return `${r.pick(MONTHS)} ${r.int(1, 28)} ${SLOTS.clock(r)} ${SLOTS.host(r)} ${svc}[${SLOTS.pid(r)}]: ${message}`;
    case 5:
      return `${svc} | ${lvl} | ${message}`;
    default:
      return `<${r.int(8, 190)}>1 ${SLOTS.date(r)}T${SLOTS.clock(r)}Z ${SLOTS.host(r)} ${svc} ${SLOTS.pid(r)} - - ${message}`;
  }
}

function capitalise(s: string, r: Rng): string {
  if (!s) return s;
  const roll = r.next();
  if (roll < 0.6) return s[0].toUpperCase() + s.slice(1);
  if (roll < 0.65) return s.toLowerCase();
  return s;
}

function generateOne(label: CorpusLabel, r: Rng): string {
  const t = DEFAULT_TEMPLATES[label];
  if (t.raw.length > 0 && r.chance(t.rawShare)) return r.pick(t.raw)(r).replace(/\s+/g, ' ').trim();
  let msg = capitalise(expandTemplate(r.pick(t.sentences), r), r);
  if (r.chance(0.12)) msg += '.';
  if (r.chance(t.wrap)) msg = envelope(label, msg, r);
  return msg;
}

/** Number of hand-written templates per label (sentences + raw line builders). */
export function templateCounts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const label of CORPUS_LABELS) out[label] = DEFAULT_TEMPLATES[label].sentences.length + DEFAULT_TEMPLATES[label].raw.length;
  return out;
}

/**
 * Generates `rowsPerLabel` rows for each label, deterministically for a given seed.
 * Rows are interleaved (shuffled) so the file does not read label by label.
 */
export function generateCorpus(options: CorpusOptions = {}): CorpusRow[] {
  const seed = options.seed ?? 42;
  const rowsPerLabel = options.rowsPerLabel ?? 1000;
  const labels = (options.labels ?? CORPUS_LABELS) as readonly string[];
  const r = new Rng(mulberry32(seed));
  const rows: CorpusRow[] = [];
  for (const label of labels) {
    if (!(CORPUS_LABELS as readonly string[]).includes(label)) throw new Error(`unknown corpus label: ${label}`);
    for (let i = 0; i < rowsPerLabel; i++) {
      rows.push({ source: r.pick(SOURCES), log_message: generateOne(label as CorpusLabel, r), target_label: label });
    }
  }
  // Fisher–Yates with the same PRNG.
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(r.next() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  return rows;
}
