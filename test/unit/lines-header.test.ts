import { describe, expect, it } from 'vitest';
import { compileHeaderPatterns, componentWords, HeaderParser, HeaderPatternError, normaliseLevel } from '../../src/lines/header.js';
import { compileMasker, CACHE_MASK_RULES } from '../../src/lines/masking.js';
import { LinePreparer } from '../../src/lines/prepare.js';
import { readHeaderPatterns } from '../../src/pipeline/build.js';

const parser = new HeaderParser(await readHeaderPatterns(new URL('../../configs/header_patterns.json', import.meta.url).pathname));

// One line per common format (written for this test): [line, format, level, component, message].
const CASES: [string, string | undefined, string | undefined, string | undefined, string][] = [
  ['03-02 09:14:07.512  2210  2301 W ActivityManager: Slow operation: 61ms so far', 'logcat-threadtime', 'warn', 'ActivityManager', 'Slow operation: 61ms so far'],
  ['E/AudioFlinger(  311): createTrack returned error -12', 'logcat-brief', 'error', 'AudioFlinger', 'createTrack returned error -12'],
  ['I0415 08:01:02.123456    2211 controller.go:212] Synced namespace default', 'klog', 'info', 'controller.go:212', 'Synced namespace default'],
  ['2024-05-01 10:00:00,101 - WARN  [SyncThread:0:FileTxnLog@338] - fsync-ing the write ahead log took 1204ms', 'java-dash', 'warn', 'SyncThread:0:FileTxnLog@338', 'fsync-ing the write ahead log took 1204ms'],
  ['2024-05-01 10:00:00,101 - billing.worker - ERROR - invoice run aborted', 'python-logging', 'error', 'billing.worker', 'invoice run aborted'],
  ['2024-05-01 10:00:00,101 INFO [main] org.acme.Server: Listening on 8080', 'iso-level', 'info', 'org.acme.Server', 'Listening on 8080'],
  ['2024-05-01T10:00:00.101Z  ERROR 4242 --- [nio-8080-exec-3] o.a.c.c.StandardWrapperValve : Servlet threw exception', 'iso-level', 'error', 'o.a.c.c.StandardWrapperValve', 'Servlet threw exception'],
  ['240501 100000 77 INFO store.BlockStore: Deleted block 4411', 'compact-date-level', 'info', 'store.BlockStore', 'Deleted block 4411'],
  ['24/05/01 10:00:00 WARN scheduler.TaskSetManager: Lost task 3.0 in stage 2.0', 'compact-date-level', 'warn', 'scheduler.TaskSetManager', 'Lost task 3.0 in stage 2.0'],
  ['[Wed May 01 10:00:00 2024] [error] [client 198.51.100.7] File does not exist: /srv/www/x', 'apache-error', 'error', undefined, '[client 198.51.100.7] File does not exist: /srv/www/x'],
  ['[Wed May 01 10:00:00.123456 2024] [proxy:warn] [pid 881:tid 992] AH01144: No protocol handler', 'apache-error', 'warn', 'proxy', 'AH01144: No protocol handler'],
  ['2024/05/01 10:00:00 [crit] 811#0: *31 open() "/srv/x" failed (13: Permission denied)', 'nginx-error', 'critical', undefined, 'open() "/srv/x" failed (13: Permission denied)'],
  ['May  1 10:00:00 web-3 sshd[4242]: Accepted publickey for deploy from 192.0.2.4 port 50312 ssh2', 'syslog', undefined, 'sshd', 'Accepted publickey for deploy from 192.0.2.4 port 50312 ssh2'],
  ['May  1 10:00:00 web-3 su(pam_unix)[77]: session opened for user root', 'syslog', undefined, 'su(pam_unix)', 'session opened for user root'],
  // macOS: the process or service in parentheses after the pid.
  ['May  1 10:00:00 mbp-3 sandboxd[129] ([4211]): mdworker(4211) deny file-read-data /Users/ana/.ssh', 'syslog', undefined, 'sandboxd', 'mdworker(4211) deny file-read-data /Users/ana/.ssh'],
  ['May  1 10:00:00 mbp-3 com.apple.xpc.launchd[1] (com.apple.mdworker.bundles[4821]): Service exited with abnormal code: 78', 'syslog', undefined, 'com.apple.xpc.launchd', 'Service exited with abnormal code: 78'],
  ['2024-05-01T10:00:00+02:00 web-3 systemd[1]: Started Daily apt activities.', 'syslog-iso', undefined, 'systemd', 'Started Daily apt activities.'],
  ['2024-05-01 10:00:00, Info                  CBS    Loaded servicing stack v6.1', 'windows-servicing', 'info', 'CBS', 'Loaded servicing stack v6.1'],
  ['[05.01 10:00:00] updater.exe - cdn.example.com:443 open through proxy gw:3128 HTTPS', 'bracket-time-program', undefined, 'updater.exe', 'cdn.example.com:443 open through proxy gw:3128 HTTPS'],
  ['20240501-10:00:00:101|SensorHub|4411|onAccuracyChanged 3', 'pipe-separated', undefined, 'SensorHub', 'onAccuracyChanged 3'],
  ['{"level":"error","ts":1714550400.1,"logger":"sync","msg":"upstream reset"}', 'json', 'error', 'sync', 'upstream reset'],
  ['{"level":50,"time":1714550400101,"msg":"db timeout"}', 'json', 'error', undefined, 'db timeout'],
  ['time="2024-05-01T10:00:00Z" level=warning msg="image pull slow" module=cri', 'logfmt', 'warn', 'cri', 'image pull slow'],
  ['just a message with no header', undefined, undefined, undefined, 'just a message with no header'],
];

describe('header parser (configs/header_patterns.json)', () => {
  it.each(CASES)('%s', (line, format, level, component, message) => {
    const parsed = parser.parse(line);
    expect(parsed.format).toBe(format);
    expect(parsed.level).toBe(level);
    expect(parsed.component).toBe(component);
    expect(parsed.message).toBe(message);
  });

  it('normalises every spelling of a level', () => {
    expect(['W', 'warn', 'WARNING', 'Warning', '40'].map(normaliseLevel)).toEqual(['warn', 'warn', 'warn', 'warn', 'warn']);
    expect(['F', 'FATAL', 'crit', 'emerg'].map(normaliseLevel)).toEqual(['critical', 'critical', 'critical', 'critical']);
    expect(normaliseLevel('chatty')).toBeUndefined();
  });

  it('splits component names into words', () => {
    expect(componentWords('dfs.DataNode$PacketResponder')).toEqual(['dfs', 'data', 'node', 'packet', 'responder']);
    expect(componentWords('QuorumCnxManager$Listener@493')).toEqual(['quorum', 'cnx', 'manager', 'listener']);
  });

  it('refuses a pattern without a message group or with a bad regex, naming it', () => {
    expect(() => compileHeaderPatterns({ patterns: [{ name: 'x', pattern: '^(?<level>\\w+) ' }] })).toThrow(/pattern x has no \(\?<message>/);
    expect(() => compileHeaderPatterns({ patterns: [{ name: 'y', pattern: '(?<message>' }] })).toThrow(HeaderPatternError);
  });

  it('runs header patterns in linear time (RE2) and refuses lookaround, naming the pattern', () => {
    const [evil] = compileHeaderPatterns({ patterns: [{ name: 'evil', pattern: '^(?<message>(a+)+)$' }] });
    const hostile = new HeaderParser([evil]);
    const started = performance.now();
    expect(hostile.parse(`${'a'.repeat(5000)}!`).format).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(100);
    expect(() => compileHeaderPatterns({ patterns: [{ name: 'look', pattern: '(?<=x)(?<message>.*)' }] })).toThrow(/look/);
  });

  it('prepares a line: header out, variable parts masked, so lines of one template share one key', () => {
    const preparer = new LinePreparer(parser, compileMasker(CACHE_MASK_RULES));
    const a = preparer.prepare('2024-05-01 10:00:00,101 WARN [main] org.acme.Pool: Retrying connect to 10.0.0.7:5432, attempt 3');
    const b = preparer.prepare('2024-06-11 23:59:59,999 WARN [worker-2] org.acme.Pool: Retrying connect to 10.9.9.9:5432, attempt 12');
    expect(a.text).toBe(b.text);
    expect(a.text).toBe('[warn] org.acme.Pool: Retrying connect to <ip>, attempt <num>');
    expect(a.body).toBe('Retrying connect to 10.0.0.7:5432, attempt 3');
    const c = preparer.prepare('2024-05-01 10:00:00,101 ERROR [main] org.acme.Pool: Retrying connect to 10.0.0.7:5432, attempt 3');
    expect(c.text).not.toBe(a.text);
  });
});
