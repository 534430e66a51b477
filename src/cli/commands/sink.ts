/** `outbox-cache sink`: applies outbox records from Kafka to Redis until SIGTERM/SIGINT. */
import { describeSettings } from '../../config/settings.js';
import { SINK_SETTINGS, parseSinkConfig } from '../../config/sink.js';
import { runSinkFromConfig } from '../../sink/from-config.js';
import { EXIT, type Command } from '../command.js';

/** The sink command. Configuration errors exit 2 listing every problem; a clean stop exits 0. */
export const sinkCommand: Command = {
  path: ['sink'],
  summary: 'Apply outbox records from Kafka to Redis, in commit order, through the version guard',
  usage: [
    'Usage: outbox-cache sink [options]',
    '',
    'Consumes outbox.event.* topics (Debezium EventRouter records), decodes them through the Schema',
    'Registry, maps them to cache actions and applies them to Redis; offsets are committed only after',
    'Redis applied them (or they were dead-lettered). Every option can also be set by its variable;',
    'flags win.',
    '',
    'Options (environment variable in parentheses):',
    describeSettings(SINK_SETTINGS),
    '',
  ].join('\n'),
  async run(ctx) {
    const config = parseSinkConfig(ctx.env, ctx.argv);
    await runSinkFromConfig(config, { signal: ctx.signal });
    return EXIT.OK;
  },
};
