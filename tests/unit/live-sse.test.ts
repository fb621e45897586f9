/**
 * The event-stream format (src/realtime/sse.ts, EncodedFrame) read back by a parser that follows the HTML standard's
 * rules (tests/helpers/sse-client.ts): what a browser's EventSource would make of what the server writes, whatever
 * the chunking of the network.
 */
import { describe, expect, it } from 'vitest';
import { EncodedFrame, encodedFrameOf } from '../../src/realtime/protocol.js';
import { formatSseEvent, formatSseRetry, SSE_HEARTBEAT } from '../../src/realtime/sse.js';
import { SseParser } from '../helpers/sse-client.js';

/** Feeds `text` to a fresh parser in pieces cut at `cuts`. */
function parse(text: string, cuts: number[] = []) {
  const parser = new SseParser();
  const events = [];
  let at = 0;
  for (const cut of [...cuts, text.length]) {
    events.push(...parser.feed(text.slice(at, cut)));
    at = cut;
  }
  return { parser, events };
}

describe('the event-stream format', () => {
  it('writes a frame as one event with its position as id, which the parser keeps as the last event id', () => {
    const frame = encodedFrameOf({
      type: 'announcement.retracted',
      eventId: '9007199254740993',
      channelId: 'c',
      channel: 'drift',
      announcementId: 'a',
    });
    const stream = frame.eventStream.toString('utf8');
    expect(stream).toBe(`id: 9007199254740993\ndata: ${frame.json}\n\n`);
    const { parser, events } = parse(`${formatSseRetry(2500)}${SSE_HEARTBEAT}${stream}`);
    expect(events).toEqual([
      { data: frame.json, id: '9007199254740993', lastEventId: '9007199254740993', event: 'message' },
    ]);
    expect(JSON.parse(events[0]!.data)).toMatchObject({ type: 'announcement.retracted', eventId: '9007199254740993' });
    expect(parser.retry).toBe(2500);
    expect(parser.comments).toEqual(['heartbeat']);
  });

  it('gives frames without a position no id, so the last event id stays the last position', () => {
    const positioned = formatSseEvent('{"type":"announcement.published"}', '41');
    const plain = encodedFrameOf({ type: 'pong' }).eventStream.toString('utf8');
    expect(plain).toBe('data: {"type":"pong"}\n\n');
    const { events } = parse(positioned + plain);
    expect(events.map((e) => [e.id, e.lastEventId])).toEqual([
      ['41', '41'],
      [undefined, '41'],
    ]);
  });

  it('reads the same events whichever way the network cuts the stream', () => {
    const text =
      formatSseRetry(1000) +
      formatSseEvent('{"a":"æøå — 🛰"}', '1') +
      SSE_HEARTBEAT +
      formatSseEvent('{"b":2}') +
      formatSseEvent('{"c":3}', '3');
    const whole = parse(text).events;
    expect(whole.map((e) => e.data)).toEqual(['{"a":"æøå — 🛰"}', '{"b":2}', '{"c":3}']);
    for (let cut = 1; cut < text.length; cut++) expect(parse(text, [cut]).events, `cut at ${cut}`).toEqual(whole);
    expect(parse(text, [...Array(text.length).keys()].slice(1)).events).toEqual(whole);
  });

  it('splits line breaks in data over several data lines, which the reader joins again', () => {
    expect(formatSseEvent('one\ntwo\r\nthree\rfour')).toBe('data: one\ndata: two\ndata: three\ndata: four\n\n');
    expect(parse(formatSseEvent('one\ntwo')).events[0]!.data).toBe('one\ntwo');
    // What browsers accept besides LF: CRLF and CR line ends, no space after the colon, a BOM first.
    expect(parse('\uFEFFid:5\r\ndata:x\r\rdata: y\n\n').events).toEqual([
      { data: 'x', id: '5', lastEventId: '5', event: 'message' },
      { data: 'y', lastEventId: '5', event: 'message' },
    ]);
  });

  it('refuses what would break the stream: an id with a line break, a retry that is not whole milliseconds', () => {
    expect(() => formatSseEvent('x', '1\n2')).toThrow();
    expect(() => formatSseRetry(1.5)).toThrow();
    expect(() => formatSseRetry(-1)).toThrow();
  });
});

describe('EncodedFrame', () => {
  it('encodes each transport’s form once and hands the same bytes to every connection', () => {
    const frame = new EncodedFrame('{"type":"announcement.published","eventId":"5"}', '5');
    expect(frame.bytes).toBe(frame.bytes);
    expect(frame.eventStream).toBe(frame.eventStream);
    expect(frame.bytes.toString('utf8')).toBe(frame.json);
    expect(frame.eventStream.toString('utf8')).toBe(formatSseEvent(frame.json, '5'));
  });
});
