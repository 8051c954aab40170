/**
 * Coherent TCP connections for the synthetic captures: the few-flows, many-packets shape of a
 * bulk transfer (issue 13: the report against tshark on both traffic shapes). Each connection
 * opens with a three-way handshake, then the server sends segments of the sizes asked for and
 * the client acknowledges every second one, with the sequence and acknowledgement numbers a real
 * stack would put there, so that a reader's TCP analysis sees ordinary streams.
 */
import { ipv4Frame, TCP_FLAG } from './frames.js';
import type { Random } from './random.js';

interface Connection {
  client: string;
  clientMac: string;
  port: number;
  /** Next sequence numbers of each side. */
  serverSeq: number;
  clientSeq: number;
  /** Packets sent so far (the first three are the handshake). */
  sent: number;
  unacked: number;
}

const SERVER = { ip: '172.20.16.2', mac: '00:15:5d:0a:0b:0c', port: 443 };
const CLIENTS = [['10.0.0.4', '00:15:5d:01:02:03'], ['10.0.0.5', '94:8e:d3:c5:f7:48'], ['192.168.1.10', '00:22:48:7b:b3:80']] as const;
const u32 = (x: number): number => x >>> 0;

export class TcpStreams {
  private readonly connections: Connection[] = [];
  private readonly filler: Uint8Array;

  constructor(private readonly rng: Random, count: number, private readonly minFrame: number, private readonly maxFrame: number) {
    for (let i = 0; i < count; i++) {
      const [client, clientMac] = CLIENTS[i % CLIENTS.length]!;
      this.connections.push({ client, clientMac, port: 49152 + i, serverSeq: rng.int(0, 0x7fffffff), clientSeq: rng.int(0, 0x7fffffff), sent: 0, unacked: 0 });
    }
    this.filler = rng.bytes(Math.max(1, maxFrame));
  }

  /** The next frame of a connection chosen at random. */
  next(): Uint8Array {
    const c = this.connections[this.rng.int(0, this.connections.length - 1)]!;
    c.sent++;
    if (c.sent === 1) return this.fromClient(c, TCP_FLAG.SYN, 0, 1);
    if (c.sent === 2) return this.fromServer(c, TCP_FLAG.SYN | TCP_FLAG.ACK, 0, 1);
    if (c.sent === 3 || c.unacked >= 2) {
      c.unacked = 0;
      return this.fromClient(c, TCP_FLAG.ACK, 0, 0);
    }
    c.unacked++;
    const size = Math.max(0, this.rng.int(this.minFrame, this.maxFrame) - 54);
    return this.fromServer(c, TCP_FLAG.ACK | TCP_FLAG.PSH, size, 0);
  }

  private fromClient(c: Connection, flags: number, size: number, consumes: number): Uint8Array {
    const f = ipv4Frame(c.clientMac, SERVER.mac, c.client, SERVER.ip, {
      protocol: 'tcp', srcPort: c.port, dstPort: SERVER.port, seq: c.clientSeq, ack: flags & TCP_FLAG.ACK ? c.serverSeq : 0, flags, payload: this.filler.subarray(0, size),
    });
    c.clientSeq = u32(c.clientSeq + size + consumes);
    return f;
  }

  private fromServer(c: Connection, flags: number, size: number, consumes: number): Uint8Array {
    const f = ipv4Frame(SERVER.mac, c.clientMac, SERVER.ip, c.client, {
      protocol: 'tcp', srcPort: SERVER.port, dstPort: c.port, seq: c.serverSeq, ack: c.clientSeq, flags, payload: this.filler.subarray(0, size),
    });
    c.serverSeq = u32(c.serverSeq + size + consumes);
    return f;
  }
}
