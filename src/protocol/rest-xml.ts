import type { Codec, ResponseSpec } from './codec.js';
import type { OperationModel, ServiceModel } from './model.js';
import { shapeOf } from './model.js';
import { beginRestResponse, readHttpBindings, routerFor, type RouteMatch } from './rest.js';
import { fromXml, parseXmlDocument, toXml, XML_ORDER, XmlSyntaxError } from './xml-shapes.js';
import { CommonErrors, ServiceError } from './errors.js';
import type { RequestContext } from '../server/context.js';
import { escapeXml } from '../util/xml.js';

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

export interface RestXmlOptions {
  /** Root element names the model omits (S3's ListObjectsV2 result is <ListBucketResult>). */
  rootNames?: Record<string, string>;
  /** Default namespace of response documents. */
  xmlNamespace?: string;
  /** Operations whose one body member is the text of the root element (GetBucketLocation). */
  textRoot?: Record<string, string>;
  /** Operations that answer an empty root element rather than no body (GetBucketVersioning). */
  emptyRoot?: string[];
  /** Error code for a malformed XML body. */
  malformedXml: () => ServiceError;
}

/** rest-xml (S3): HTTP bindings plus XML documents as payloads. */
export class RestXmlCodec implements Codec {
  readonly protocol = 'rest-xml';
  readonly needsBodyToResolve = false;

  constructor(private readonly opts: RestXmlOptions) {}

  resolve(ctx: RequestContext, model: ServiceModel): RouteMatch | undefined {
    const path = ctx.hostBucket !== undefined ? `/${ctx.hostBucket}${ctx.rawPath === '' ? '/' : ctx.rawPath}` : ctx.rawPath;
    return routerFor(model).match(ctx.method, path, ctx);
  }

  streamsInput(model: ServiceModel, op: OperationModel): boolean {
    if (!op.input) return false;
    const input = shapeOf(model, op.input);
    if (!input.payload) return false;
    const p = input.members![input.payload]!;
    return shapeOf(model, p).type === 'blob' && !!(p.streaming || shapeOf(model, p).streaming);
  }

  parse(ctx: RequestContext, model: ServiceModel, match: RouteMatch): unknown {
    const out: Record<string, unknown> = {};
    if (!match.op.input) return out;
    const input = shapeOf(model, match.op.input);
    readHttpBindings(model, input, ctx, match.labels, out);
    if (input.payload) {
      const ref = input.members![input.payload]!;
      const shape = shapeOf(model, ref);
      if (shape.type === 'blob') {
        out[input.payload] = this.streamsInput(model, match.op) ? ctx.bodyStream : ctx.body;
      } else if (shape.type === 'string') {
        if (ctx.body && ctx.body.length) out[input.payload] = ctx.body.toString('utf8');
      } else if (ctx.body && ctx.body.length) {
        try {
          const doc = parseXmlDocument(ctx.body.toString('utf8'));
          out[input.payload] = fromXml(model, ref, doc.node);
        } catch (e) {
          if (e instanceof XmlSyntaxError) throw this.opts.malformedXml();
          throw e;
        }
      }
    }
    return out;
  }

  serialize(ctx: RequestContext, model: ServiceModel, op: OperationModel, output: unknown): ResponseSpec {
    const { spec, value, outShape, bodyMembers } = beginRestResponse(model, op, output);
    const headers = spec.headers;
    if (!outShape) return spec;
    if (outShape.payload) {
      const ref = outShape.members![outShape.payload]!;
      const v = value[outShape.payload];
      if (v === undefined || v === null) return spec;
      const shape = shapeOf(model, ref);
      if (shape.type === 'structure') {
        const name = ref.locationName ?? shape.locationName ?? outShape.payload;
        headers['content-type'] = 'application/xml';
        spec.body = XML_DECL + toXml(model, ref, v, name, this.opts.xmlNamespace);
      } else {
        spec.body = v as ResponseSpec['body'];
      }
      return spec;
    }
    const textRoot = this.opts.textRoot?.[op.name];
    if (textRoot) {
      const ns = this.opts.xmlNamespace ? ` xmlns="${this.opts.xmlNamespace}"` : '';
      headers['content-type'] = 'application/xml';
      spec.body = XML_DECL + `<${textRoot}${ns}>${escapeXml(String(value[bodyMembers[0]!] ?? ''))}</${textRoot}>`;
      return spec;
    }
    if (bodyMembers.some((m) => value[m] !== undefined) || this.opts.emptyRoot?.includes(op.name)) {
      const name = this.opts.rootNames?.[op.name] ?? outShape.locationName ?? `${op.name}Result`;
      headers['content-type'] = 'application/xml';
      const stripped: Record<string | symbol, unknown> = { [XML_ORDER]: (value as Record<symbol, unknown>)[XML_ORDER] };
      for (const m of bodyMembers) stripped[m] = value[m];
      spec.body = XML_DECL + toXml(model, op.output!, stripped, name, this.opts.xmlNamespace);
    }
    return spec;
  }

  /** S3's error document: <Error><Code/><Message/>…extra fields…<RequestId/><HostId/></Error> */
  serializeError(ctx: RequestContext, err: ServiceError): ResponseSpec {
    const headers: Record<string, string> = { ...err.headers };
    if (ctx.method === 'HEAD' || err.status === 304) return { status: err.status, headers };
    let extra = '';
    for (const [k, v] of Object.entries(err.fields)) {
      if (v === undefined || v === null) continue;
      extra += `<${k}>${escapeXml(String(v))}</${k}>`;
    }
    headers['content-type'] = 'application/xml';
    const body =
      XML_DECL +
      `<Error><Code>${err.code}</Code><Message>${escapeXml(err.message)}</Message>${extra}` +
      `<RequestId>${ctx.requestId}</RequestId><HostId>${escapeXml(ctx.res.getHeader('x-amz-id-2')?.toString() ?? '')}</HostId></Error>`;
    return { status: err.status, headers, body };
  }
}

export function malformedXmlDefault(): ServiceError {
  return CommonErrors.MalformedInput();
}
