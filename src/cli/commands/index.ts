/** Every command of the CLI, in the order `wnvcap --help` lists them. */
import type { Command } from '../command.js';
import agent from './agent.js';
import capture from './capture.js';
import compartments from './compartments.js';
import decode from './decode.js';
import demo from './demo.js';
import doctor from './doctor.js';
import extcap from './extcap.js';
import info from './info.js';
import profiles from './profiles.js';
import report from './report.js';
import schedule from './schedule.js';
import sessions from './sessions.js';
import sniff from './sniff.js';

export const COMMANDS: ReadonlyArray<Command<unknown>> = [decode, info, report, compartments, capture, sniff, sessions, profiles, schedule, agent, doctor, extcap, demo];
