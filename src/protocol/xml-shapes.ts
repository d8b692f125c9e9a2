import { createRequire } from 'node:module';
import type { ServiceModel, Shape, ShapeRef } from './model.js';
import { shapeOf } from './model.js';
import { escapeXml } from '../util/xml.js';
import { formatTimestamp, parseTimestamp } from './timestamps.js';

/**
 * Model-driven XML (rest-xml bodies and query-protocol results): values to XML text and
 * parsed XML back to values. Element names, list wrappers, flattening and attributes all
 * come from the shapes.
 */
/**
 * On a structure value: the document order of the items of its flattened list members,
 * one member name per item, where a protocol interleaves them (S3's ListObjectVersions
 * writes <Version> and <DeleteMarker> elements in listing order). The members named are
 * written together where the first of them would be.
 */
export const XML_ORDER = Symbol('xmlOrder');

export function toXml(model: ServiceModel, ref: ShapeRef, value: unknown, name: string, rootNs?: string): string {
  if (value === undefined || value === null) return '';
  return serializerFor(model, ref, name, rootNs)(value);
}

/**
 * Compiled serialisers: one function per (shape reference, element name), with the
 * members, element names and scalar kinds of the shape worked out once. A 1000-key
 * ListObjectsV2 page spent ~1.7 ms in the generic walk (Object.entries and shapeOf for
 * every member of every entry); see docs/benchmarks.md. Values with an XML_ORDER (S3's
 * ListObjectVersions) take the generic walk below, which is the reference behaviour.
 */
type Serializer = (value: unknown) => string;
const serializers = new WeakMap<ShapeRef, Map<string, Serializer>>();

function serializerFor(model: ServiceModel, ref: ShapeRef, name: string, rootNs?: string): Serializer {
  let byName = serializers.get(ref);
  if (!byName) serializers.set(ref, (byName = new Map()));
  const key = rootNs === undefined ? name : `${name}\0${rootNs}`;
  let ser = byName.get(key);
  if (!ser) {
    ser = compile(model, ref, name, rootNs);
    byName.set(key, ser);
  }
  return ser;
}

function compile(model: ServiceModel, ref: ShapeRef, name: string, rootNs?: string): Serializer {
  const shape = shapeOf(model, ref);
  switch (shape.type) {
    case 'structure': {
      let attrsStatic = '';
      const ns = ref.xmlNamespace ?? shape.xmlNamespace;
      if (rootNs) attrsStatic += ` xmlns="${rootNs}"`;
      if (ns?.prefix) attrsStatic += ` xmlns:${ns.prefix}="${ns.uri}"`;
      else if (ns && !rootNs) attrsStatic += ` xmlns="${ns.uri}"`;
      interface M {
        mName: string;
        elName: string;
        attr: boolean;
        ser?: Serializer;
        mRef: ShapeRef;
      }
      let members: M[] | undefined;
      const open = `<${name}`;
      const close = `</${name}>`;
      return (value) => {
        const obj = value as Record<string | symbol, unknown>;
        if (obj[XML_ORDER] !== undefined) return toXmlGeneric(model, ref, value, name, rootNs);
        // Members compile on first use: shapes can be recursive.
        members ??= Object.entries(shape.members ?? {})
          .filter(([, mRef]) => !mRef.location)
          .map(([mName, mRef]) => ({ mName, mRef, elName: mRef.locationName ?? mName, attr: !!mRef.xmlAttribute }));
        let attrs = attrsStatic;
        let inner = '';
        for (let i = 0; i < members.length; i++) {
          const m = members[i]!;
          const v = obj[m.mName];
          if (v === undefined || v === null) continue;
          if (m.attr) {
            attrs += ` ${m.elName}="${escapeXml(String(v))}"`;
            continue;
          }
          inner += (m.ser ??= memberSerializer(model, m.mRef, m.elName))(v);
        }
        return `${open}${attrs}>${inner}${close}`;
      };
    }
    case 'list':
    case 'map':
      return memberSerializer(model, ref, name);
    case 'timestamp': {
      const format = ref.timestampFormat ?? shape.timestampFormat ?? 'iso8601';
      return (v) => `<${name}>${v instanceof Date ? formatTimestamp(v, format) : scalarText(shape, ref, v)}</${name}>`;
    }
    default: {
      const open = `<${name}>`;
      const close = `</${name}>`;
      return (v) => (typeof v === 'string' ? open + escapeXml(v) + close : open + scalarText(shape, ref, v) + close);
    }
  }
}

function memberSerializer(model: ServiceModel, ref: ShapeRef, elName: string): Serializer {
  const shape = shapeOf(model, ref);
  if (shape.type === 'list') {
    const itemRef = shape.member!;
    let item: Serializer | undefined;
    if (ref.flattened || shape.flattened) {
      const itemName = ref.locationName ?? elName;
      return (value) => {
        item ??= serializerFor(model, itemRef, itemName);
        const items = value as unknown[];
        let out = '';
        for (let i = 0; i < items.length; i++) {
          const it = items[i];
          if (it !== undefined && it !== null) out += item(it);
        }
        return out;
      };
    }
    const itemName = itemRef.locationName ?? 'member';
    return (value) => {
      item ??= serializerFor(model, itemRef, itemName);
      const items = value as unknown[];
      let out = `<${elName}>`;
      for (let i = 0; i < items.length; i++) {
        const it = items[i];
        if (it !== undefined && it !== null) out += item(it);
      }
      return out + `</${elName}>`;
    };
  }
  if (shape.type === 'map') return (value) => memberXml(model, ref, value, elName);
  return serializerFor(model, ref, elName);
}

/** The reference walk of a value by its shape (used for XML_ORDER values, and the model of the compiled one). */
function toXmlGeneric(model: ServiceModel, ref: ShapeRef, value: unknown, name: string, rootNs?: string): string {
  const shape = shapeOf(model, ref);
  if (value === undefined || value === null) return '';
  switch (shape.type) {
    case 'structure': {
      let attrs = '';
      const ns = ref.xmlNamespace ?? shape.xmlNamespace;
      if (rootNs) attrs += ` xmlns="${rootNs}"`;
      if (ns?.prefix) attrs += ` xmlns:${ns.prefix}="${ns.uri}"`;
      else if (ns && !rootNs) attrs += ` xmlns="${ns.uri}"`;
      let inner = '';
      const obj = value as Record<string | symbol, unknown>;
      const order = obj[XML_ORDER] as string[] | undefined;
      let interleaved = false;
      for (const [mName, mRef] of Object.entries(shape.members ?? {})) {
        const v = obj[mName];
        if (v === undefined || v === null) continue;
        if (mRef.location) continue;
        const elName = mRef.locationName ?? mName;
        if (order?.includes(mName)) {
          if (interleaved) continue;
          interleaved = true;
          const next: Record<string, number> = {};
          for (const m of order) {
            const item = (obj[m] as unknown[])[(next[m] = (next[m] ?? -1) + 1)];
            const itemRef = shape.members![m]!;
            inner += memberXml(model, itemRef, [item], itemRef.locationName ?? m);
          }
          continue;
        }
        if (mRef.xmlAttribute) {
          attrs += ` ${elName}="${escapeXml(String(v))}"`;
          continue;
        }
        inner += memberXml(model, mRef, v, elName);
      }
      return `<${name}${attrs}>${inner}</${name}>`;
    }
    case 'list':
    case 'map':
      return memberXml(model, ref, value, name);
    default:
      return `<${name}>${scalarText(shape, ref, value)}</${name}>`;
  }
}

function memberXml(model: ServiceModel, ref: ShapeRef, value: unknown, elName: string): string {
  const shape = shapeOf(model, ref);
  if (shape.type === 'list') {
    const items = value as unknown[];
    const itemRef = shape.member!;
    if (ref.flattened || shape.flattened) {
      const itemName = itemRef.locationName && !(ref.flattened || shape.flattened) ? itemRef.locationName : (ref.locationName ?? elName);
      return items.map((it) => toXml(model, itemRef, it, itemName)).join('');
    }
    const itemName = itemRef.locationName ?? 'member';
    return `<${elName}>${items.map((it) => toXml(model, itemRef, it, itemName)).join('')}</${elName}>`;
  }
  if (shape.type === 'map') {
    const entries = Object.entries(value as Record<string, unknown>);
    const k = shape.key!.locationName ?? 'key';
    const v = shape.value!.locationName ?? 'value';
    const body = entries.map(([ek, ev]) => `<entry>${toXml(model, shape.key!, ek, k)}${toXml(model, shape.value!, ev, v)}</entry>`);
    return ref.flattened || shape.flattened ? body.join('') : `<${elName}>${body.join('')}</${elName}>`;
  }
  return toXml(model, ref, value, elName);
}

function scalarText(shape: Shape, ref: ShapeRef, value: unknown): string {
  if (value instanceof Date) return formatTimestamp(value, ref.timestampFormat ?? shape.timestampFormat ?? 'iso8601');
  if (Buffer.isBuffer(value)) return value.toString('base64');
  return escapeXml(String(value));
}

// fast-xml-parser (and its entity tables) load on the first XML request body: most
// requests never carry one, and idle memory matters for a tool left running all day.
type Fxp = typeof import('fast-xml-parser');
const load = createRequire(import.meta.url);
let fxp: { lib: Fxp; parser: InstanceType<Fxp['XMLParser']> } | undefined;
function xml() {
  if (!fxp) {
    const lib = load('fast-xml-parser') as Fxp;
    const parser = new lib.XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '@',
      parseTagValue: false,
      parseAttributeValue: false,
      trimValues: false,
      removeNSPrefix: true,
      processEntities: true,
      // Decodes numeric character references (&#x0A; &#13;): the JS SDK writes CR, LF, NEL
      // and LS in keys that way. (It also accepts HTML names such as &nbsp;, where S3's
      // strict parser would refuse the document: more lenient than S3, on purpose.)
      htmlEntities: true,
    });
    fxp = { lib, parser };
  }
  return fxp;
}

export class XmlSyntaxError extends Error {}

/** Parses an XML document; returns the root element's name and content. */
export function parseXmlDocument(text: string): { name: string; node: unknown } {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new XmlSyntaxError('DOCTYPE is not allowed');
  const { lib, parser } = xml();
  const valid = lib.XMLValidator.validate(text);
  if (valid !== true) throw new XmlSyntaxError(valid.err.msg);
  const doc = parser.parse(text) as Record<string, unknown>;
  const roots = Object.keys(doc).filter((k) => k !== '?xml' && !k.startsWith('#'));
  if (roots.length !== 1) throw new XmlSyntaxError('expected one root element');
  return { name: roots[0]!, node: doc[roots[0]!] };
}

function asArray(v: unknown): unknown[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function textOf(node: unknown): string {
  if (node === undefined || node === null) return '';
  if (typeof node === 'string') return node;
  if (typeof node === 'object') {
    const t = (node as Record<string, unknown>)['#text'];
    return t === undefined ? '' : String(t);
  }
  return String(node);
}

/** Maps a parsed XML node into a value of the given shape. */
export function fromXml(model: ServiceModel, ref: ShapeRef, node: unknown): unknown {
  const shape = shapeOf(model, ref);
  switch (shape.type) {
    case 'structure': {
      const out: Record<string, unknown> = {};
      if (node === null || typeof node !== 'object') return out;
      const obj = node as Record<string, unknown>;
      for (const [mName, mRef] of Object.entries(shape.members ?? {})) {
        if (mRef.location) continue;
        const elName = mRef.locationName ?? mName;
        if (mRef.xmlAttribute) {
          const attr = obj['@' + elName.replace(/^.*:/, '')];
          if (attr !== undefined) out[mName] = String(attr);
          continue;
        }
        const mShape = shapeOf(model, mRef);
        if (mShape.type === 'list' && (mRef.flattened || mShape.flattened)) {
          const items = asArray(obj[elName]);
          if (items.length) out[mName] = items.map((it) => fromXml(model, mShape.member!, it));
          continue;
        }
        if (obj[elName] === undefined) continue;
        const child = asArray(obj[elName])[0];
        out[mName] = fromXml(model, mRef, child);
      }
      return out;
    }
    case 'list': {
      const itemName = shape.member!.locationName ?? 'member';
      const container = node && typeof node === 'object' ? (node as Record<string, unknown>)[itemName] : undefined;
      return asArray(container).map((it) => fromXml(model, shape.member!, it));
    }
    case 'map': {
      const out: Record<string, unknown> = {};
      const entries = node && typeof node === 'object' ? asArray((node as Record<string, unknown>).entry) : [];
      for (const e of entries) {
        const eo = e as Record<string, unknown>;
        out[textOf(eo[shape.key!.locationName ?? 'key'])] = fromXml(model, shape.value!, asArray(eo[shape.value!.locationName ?? 'value'])[0]);
      }
      return out;
    }
    case 'integer':
    case 'long':
      return parseInt(textOf(node).trim(), 10);
    case 'float':
    case 'double':
      return Number(textOf(node).trim());
    case 'boolean':
      return textOf(node).trim().toLowerCase() === 'true';
    case 'timestamp':
      return parseTimestamp(textOf(node).trim());
    case 'blob':
      return Buffer.from(textOf(node), 'base64');
    default:
      return textOf(node);
  }
}
