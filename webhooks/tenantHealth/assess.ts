/**
 * What "healthy" means for a running tenant, decided from what its Dokku host
 * reports and, where the readiness URLs are probed, what they answer. Pure: the
 * checker (check.ts) gathers the reports and probe results, this turns them into
 * findings. Every finding is written for the customer, who reads it on their
 * dashboard.
 *
 * From Dokku (`ps:report <app> --format json`): each app must be deployed, run
 * at least the processes its spec scales it to, and report them running (Dokku
 * says `true`, `false` or `mixed`). From the readiness URL: a 2xx within the
 * timeout. When the HTTP probe is off (the Dokku test host runs no containers,
 * so nothing could answer), the report says so instead of pretending it passed.
 * Certificates (`certs:report <app> --format json`) are recorded for the expiry
 * alert, not judged here: an expiring certificate is an operator's matter.
 */

/** One app of the tenant as the checker sees it. */
export interface AppExpectation {
  /** `runtime` or `homeserver`: what the customer knows it as. */
  readonly role: "runtime" | "homeserver";
  /** Dokku app name. */
  readonly app: string;
  /** Processes the spec scales the app to. */
  readonly processes: number;
  /** The public readiness URL. */
  readonly readinessUrl: string;
}

/** `ps:report --format json` as Dokku prints it (string values), or why it could not be read. */
export type PsReport = { readonly ok: true; readonly report: Record<string, unknown> } | FailedRead;
export type CertsReport = { readonly ok: true; readonly report: Record<string, unknown> } | FailedRead;
export interface FailedRead {
  readonly ok: false;
  /** Exit code of the Dokku command (20: the app does not exist). */
  readonly code: number;
}

export type HttpProbe =
  | { readonly probed: true; readonly status: number | null; readonly error?: string; readonly ms: number }
  | { readonly probed: false; readonly reason: string };

export interface AppObservation {
  readonly ps: PsReport;
  readonly certs: CertsReport;
  readonly http: HttpProbe;
}

export interface HealthFinding {
  readonly app: string;
  readonly role: AppExpectation["role"];
  /** `process` (Dokku's report) or `readiness` (the HTTP probe). */
  readonly check: "process" | "readiness";
  readonly message: string;
}

export interface CertificateExpiry {
  readonly app: string;
  /** ISO time; absent when the app has no certificate. */
  readonly expiresAt: string;
}

export interface HealthReport {
  readonly health: "healthy" | "degraded";
  readonly findings: readonly HealthFinding[];
  readonly certificates: readonly CertificateExpiry[];
  /** Per app: the readiness probe's outcome, or why it was not probed. */
  readonly readiness: readonly ({ readonly app: string } & HttpProbe)[];
}

const str = (report: Record<string, unknown>, key: string): string =>
  typeof report[key] === "string" ? (report[key] as string) : "";

function processFindings(expected: AppExpectation, ps: PsReport): string[] {
  if (!ps.ok) {
    return [
      ps.code === 20
        ? `the ${expected.role} app ${expected.app} does not exist on its host`
        : `the host did not report the ${expected.role} app's processes (exit ${ps.code})`,
    ];
  }
  const report = ps.report;
  if (str(report, "deployed") !== "true") return [`the ${expected.role} app is not deployed`];
  const problems: string[] = [];
  const processes = Number(str(report, "processes"));
  if (!Number.isFinite(processes) || processes < expected.processes) {
    problems.push(
      `the ${expected.role} app runs ${Number.isFinite(processes) ? processes : "an unknown number of"} process${processes === 1 ? "" : "es"}, ${expected.processes} expected`,
    );
  }
  const running = str(report, "running");
  if (expected.processes > 0 && processes > 0 && running !== "true") {
    problems.push(
      running === "mixed"
        ? `some of the ${expected.role} app's processes are not running`
        : `the ${expected.role} app is stopped`,
    );
  }
  return problems;
}

function readinessFinding(expected: AppExpectation, http: HttpProbe): string | undefined {
  if (!http.probed) return undefined;
  if (http.status !== null && http.status >= 200 && http.status < 300) return undefined;
  // Findings reach the customer's dashboard: the network error's own text (addresses, TLS detail)
  // stays in the report's `readiness` entry, which only operators see.
  return http.status === null
    ? `${expected.readinessUrl} did not answer`
    : `${expected.readinessUrl} answered ${http.status}`;
}

/** Dokku prints openssl's date (`Mar  1 12:00:00 2027 GMT`); anything unparseable is left out. */
function expiry(certs: CertsReport): string | undefined {
  if (!certs.ok) return undefined;
  const raw = str(certs.report, "ssl-expires-at");
  if (raw === "") return undefined;
  const at = new Date(raw);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

export function assessTenant(
  apps: readonly { readonly expected: AppExpectation; readonly observed: AppObservation }[],
): HealthReport {
  const findings: HealthFinding[] = [];
  const certificates: CertificateExpiry[] = [];
  const readiness: HealthReport["readiness"][number][] = [];
  for (const { expected, observed } of apps) {
    const base = { app: expected.app, role: expected.role };
    for (const message of processFindings(expected, observed.ps))
      findings.push({ ...base, check: "process", message });
    const http = readinessFinding(expected, observed.http);
    if (http) findings.push({ ...base, check: "readiness", message: http });
    const expiresAt = expiry(observed.certs);
    if (expiresAt) certificates.push({ app: expected.app, expiresAt });
    readiness.push({ app: expected.app, ...observed.http });
  }
  return { health: findings.length === 0 ? "healthy" : "degraded", findings, certificates, readiness };
}
