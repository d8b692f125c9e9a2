import { execFileSync, spawnSync } from 'node:child_process';

/**
 * The machine's python3 with boto3 and the AWS CLI. Tests that need them fail with a
 * clear message when they are missing; they never skip.
 */
export function python(): string {
  return process.env.NIMBUS_PYTHON ?? 'python3';
}

export function requireBoto3(): void {
  const r = spawnSync(python(), ['-c', 'import boto3, botocore'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`boto3 is required for this test but "${python()} -c 'import boto3'" failed: ${r.stderr || r.error}. Install it with: pip install boto3 awscli`);
  }
}

export function requireAwsCli(): string {
  const r = spawnSync('aws', ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the AWS CLI is required for this test but "aws --version" failed: ${r.stderr || r.error}. Install it with: pip install awscli`);
  return (r.stdout || r.stderr).trim();
}

/** Environment pointing the CLI and boto3 at a Nimbus server, isolated from the user's config. */
export function awsEnv(url: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: url,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
    ...extra,
  };
}

/** Runs `aws ...args` and returns stdout; throws with stderr on failure. */
export function aws(url: string, args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): string {
  return execFileSync('aws', args, { env: awsEnv(url, opts.env), cwd: opts.cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs `aws ...args` expecting failure; returns { status, stderr }. */
export function awsFails(url: string, args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync('aws', args, { env: awsEnv(url), encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

/** Runs a Python (boto3) script with NIMBUS_URL set; returns its stdout. */
export function runPython(url: string, script: string): string {
  return execFileSync(python(), ['-c', script], { env: awsEnv(url, { NIMBUS_URL: url }), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/**
 * An AWS CLI v2 (for what only v2 has: `aws logs tail`, `--cli-binary-format`). The
 * machine's `aws` is v1 (pip); CI installs Debian's `awscli` package, which is v2, at
 * /usr/bin/aws. NIMBUS_AWS_CLI_V2 may point elsewhere. v2.9 predates AWS_ENDPOINT_URL:
 * pass --endpoint-url.
 */
export function requireAwsCliV2(): string {
  const bin = process.env.NIMBUS_AWS_CLI_V2 ?? '/usr/bin/aws';
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  const v = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (r.status !== 0 || !v.startsWith('aws-cli/2')) {
    throw new Error(`the AWS CLI v2 is required for this test but "${bin} --version" gave ${JSON.stringify(v || String(r.error))}. Install it with: apt-get install awscli (Debian 12 packages v2), or set NIMBUS_AWS_CLI_V2`);
  }
  return bin;
}
