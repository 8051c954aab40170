/**
 * The report document, schema wnvcap.report/1 (documented in docs/report-json.md). Every renderer
 * (text, JSON, HTML) reads only this.
 */
import type { Flow } from './flows.js';
import type { CaptureFilters } from '../util/filters.js';

/** A flow as reported: the table's fields, with times as text and its path. */
export interface ReportFlow extends Pick<Flow, 'id' | 'protocol' | 'a' | 'b' | 'virtualNetworkId' | 'packets' | 'bytes' | 'dropped' | 'tcp'> {
  aToB: { packets: number; bytes: number };
  bToA: { packets: number; bytes: number };
  first: string;
  last: string;
  durationSeconds: number;
  compartments: number[];
  interfaces: number[];
  path: {
    signatures: Array<{ hops: string[]; dropped: boolean; packets: number }>;
    stops: Array<{ interface: string; packets: number; dropped: number }>;
  };
}

/** Packets and bytes, in total and by the direction the capture logged (in: received by the interface). */
export interface TrafficCounts {
  packets: number;
  bytes: number;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
}

export interface ReportCompartment extends TrafficCounts {
  id: number;
  name: string;
  description: string;
  kind: string;
  interfaces: Array<{ ifIndex: number; alias: string; mac: string | null; addresses: string[] }>;
  addresses: string[];
  containers: Array<{ id: string; name: string; ip: string | null; mac: string | null }>;
  endpoints: string[];
  protocols: Record<string, number>;
  /** [second since the first packet, packets, bytes] for each second with traffic. */
  timeline: Array<[number, number, number]>;
}

export interface ReportData {
  schema: 'wnvcap.report/1';
  generatedBy: string;
  simulated: boolean;
  capture: {
    file: string;
    host: string | null;
    osBuild: number;
    loggerName: string;
    start: string | null;
    end: string | null;
    durationSeconds: number | null;
    packets: number;
    bytes: number;
    interfaces: number;
    providers: Array<{ guid: string; name: string | null; events: number }>;
  };
  health: {
    firstEvent: string | null;
    lastEvent: string | null;
    durationSeconds: number | null;
    eventsLost: number;
    buffersLost: number;
    buffersFlaggedLost: number;
    truncatedPackets: number;
    malformedPackets: number;
    lateEvents: number;
    decodeIssues: Record<string, number>;
    filters: CaptureFilters | null;
    warnings: string[];
    captured: string;
  };
  compartments: ReportCompartment[];
  containers: Array<TrafficCounts & {
    name: string; compartmentId: number;
    protocols: Record<string, number>; timeline: Array<[number, number, number]>;
  }>;
  interfaces: Array<TrafficCounts & {
    id: number; name: string; description: string; source: string; ifIndex: number | null; componentId: number | null;
    compartmentId: number | null;
    protocols: Record<string, number>; timeline: Array<[number, number, number]>;
  }>;
  flows: ReportFlow[];
  flowsTotal: number;
  tcp: {
    flows: number;
    handshakes: number;
    medianHandshakeRttMicros: number | null;
    retransmissions: number;
    outOfOrder: number;
    zeroWindows: number;
    resets: number;
    synUnanswered: number;
    problemFlows: number[];
  };
  dns: {
    queries: number;
    responses: number;
    unanswered: number;
    byRcode: Record<string, number>;
    medianResponseMicros: number | null;
    failures: Array<{ name: string; type: number; rcode: string; client: string; server: string; compartmentId: number | null; at: string }>;
    unansweredQueries: Array<{ name: string; type: number; client: string; server: string; compartmentId: number | null; at: string }>;
  };
  drops: Array<{ reason: string; reasonCode: number; location: string; componentId: number; component: string; compartmentId: number | null; packets: number; bytes: number }>;
  paths: { multiHopPackets: number; top: Array<{ hops: string[]; packets: number; dropped: number; hopLatencyMicros: number[] }> };
  unattributed: { packets: number; bytes: number; reasons: Array<{ reason: string; packets: number; bytes: number }> };
  totals: { packets: number; bytes: number; overlayPackets: number };
}
