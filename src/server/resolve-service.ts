import type { ServiceDef } from '../services/types.js';
import type { RequestContext } from './context.js';

/**
 * Picks the service a request is for, in the order AWS clients make unambiguous:
 * SigV4 scope, X-Amz-Target prefix, path, Host, form Action+Version, then S3.
 */
export class ServiceResolver {
  private readonly bySigningName = new Map<string, ServiceDef[]>();
  private readonly byTargetPrefix = new Map<string, ServiceDef>();
  private readonly byQueryVersion = new Map<string, ServiceDef>();
  private readonly byName = new Map<string, ServiceDef>();

  constructor(private readonly services: ServiceDef[]) {
    for (const s of services) {
      this.byName.set(s.name, s);
      for (const n of s.signingNames) {
        const list = this.bySigningName.get(n) ?? [];
        list.push(s);
        this.bySigningName.set(n, list);
      }
    }
  }

  all(): ServiceDef[] {
    return this.services;
  }

  get(name: string): ServiceDef {
    return this.byName.get(name)!;
  }

  private ensureIndexes(): void {
    if (this.byTargetPrefix.size) return;
    for (const s of this.services) {
      const md = s.model().metadata;
      if (md.targetPrefix) this.byTargetPrefix.set(md.targetPrefix, s);
      if (md.protocol === 'query') this.byQueryVersion.set(md.apiVersion, s);
    }
  }

  /** By path when several services share one signing name (API Gateway v1 and v2; S3 and S3 Control). */
  private byPath(candidates: ServiceDef[], path: string): ServiceDef {
    if (candidates.length === 1) return candidates[0]!;
    if (candidates[0]!.name === 's3') return (path.startsWith('/v20180820/') && candidates.find((s) => s.name === 's3control')) || candidates[0]!;
    if (path.startsWith('/v2/')) return candidates.find((s) => s.name === 'apigatewayv2') ?? candidates[0]!;
    return candidates.find((s) => s.name !== 'apigatewayv2') ?? candidates[0]!;
  }

  resolve(ctx: RequestContext, signingName: string | undefined, formVersion: () => string | undefined): ServiceDef {
    if (signingName) {
      const c = this.bySigningName.get(signingName);
      if (c) return this.byPath(c, ctx.rawPath);
    }
    const target = ctx.header('x-amz-target');
    if (target) {
      this.ensureIndexes();
      const s = this.byTargetPrefix.get(target.slice(0, target.lastIndexOf('.')));
      if (s) return s;
    }
    const p = ctx.rawPath;
    if (p.startsWith('/2015-03-31/') || p.startsWith('/2018-10-31/layers') || p.startsWith('/2021-10-31/')) return this.get('lambda');
    if (p.startsWith('/restapis') || p.startsWith('/apikeys') || p.startsWith('/usageplans')) return this.get('apigateway');
    if (p.startsWith('/v2/apis') || p.startsWith('/v2/domainnames')) return this.get('apigatewayv2');
    if (p.startsWith('/v20180820/')) return this.get('s3control');
    if (ctx.hostBucket !== undefined) return this.get('s3');
    const version = formVersion();
    if (version) {
      this.ensureIndexes();
      const s = this.byQueryVersion.get(version);
      if (s) return s;
    }
    return this.get('s3');
  }
}

/**
 * Virtual-hosted-style S3: `<bucket>.s3.localhost[:port]`, `<bucket>.s3.<region>.localhost`
 * and `<bucket>.localhost`. Returns undefined for path-style hosts.
 */
export function bucketFromHost(host: string | undefined): string | undefined {
  if (!host) return undefined;
  let h = host.toLowerCase();
  const colon = h.lastIndexOf(':');
  if (colon > 0 && !h.endsWith(']')) h = h.slice(0, colon);
  if (!h.endsWith('.localhost')) return undefined;
  h = h.slice(0, -'.localhost'.length);
  const m = /^(.+?)\.s3(?:[.-][a-z0-9-]+)?$/.exec(h);
  if (m) return m[1];
  if (h === 's3' || h.startsWith('s3.') || h.includes('.s3-website') || h.includes('.lambda-url.') || h.includes('.execute-api.')) return undefined;
  return h;
}

/**
 * The website endpoint of a bucket: `<bucket>.s3-website.localhost[:port]`,
 * `<bucket>.s3-website-<region>.localhost` and `<bucket>.s3-website.<region>.localhost`,
 * the two forms AWS uses (regions differ in which). Returns undefined for other hosts.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/WebsiteEndpoints.html
 */
export function websiteBucketFromHost(host: string | undefined): string | undefined {
  if (!host) return undefined;
  let h = host.toLowerCase();
  const colon = h.lastIndexOf(':');
  if (colon > 0 && !h.endsWith(']')) h = h.slice(0, colon);
  const m = /^(.+)\.s3-website(?:[.-][a-z0-9-]+)?\.localhost$/.exec(h);
  return m?.[1];
}
