// node ics_events.mjs FILE.ics
//
// Parses an iCalendar file with ical.js (Mozilla's parser) and prints its
// events as JSON on standard output:
//   {"calendar": {version, prodid, calscale, name, timezones: [tzid]},
//    "events": [{uid, summary, location, status, dtstamp,
//                start: {local, tzid, utc}, end: {local, tzid, utc}}]}
// local is the wall-clock time as written ("2030-01-01T09:00:00"), tzid
// the TZID parameter, utc the instant after converting with the
// calendar's own VTIMEZONE (so a wrong offset shows). Exits 1 with the
// error on standard error when the file does not parse, 2 on a usage or
// read error.
import { readFileSync } from 'node:fs';

import ICAL from 'ical.js';

if (process.argv.length !== 3) {
	console.error('usage: node ics_events.mjs FILE.ics');
	process.exit(2);
}

let text;
try {
	text = readFileSync(process.argv[2], 'utf8');
} catch (e) {
	console.error(String(e));
	process.exit(2);
}

function when(vevent, name, time) {
	const prop = vevent.getFirstProperty(name);
	return {
		local: time.toString(),
		tzid: prop.getParameter('tzid') ?? null,
		utc: time.convertToZone(ICAL.Timezone.utcTimezone).toString(),
	};
}

try {
	const cal = new ICAL.Component(ICAL.parse(text));
	if (cal.name !== 'vcalendar')
		throw new Error('not a VCALENDAR: ' + cal.name);
	const timezones = [];
	for (const vtz of cal.getAllSubcomponents('vtimezone')) {
		const tz = new ICAL.Timezone(vtz);
		ICAL.TimezoneService.register(tz);
		timezones.push(tz.tzid);
	}
	const events = cal.getAllSubcomponents('vevent').map((vevent) => {
		const ev = new ICAL.Event(vevent);
		return {
			uid: ev.uid,
			summary: ev.summary,
			location: ev.location,
			status: vevent.getFirstPropertyValue('status'),
			dtstamp: vevent.getFirstPropertyValue('dtstamp')?.toString() ?? null,
			start: when(vevent, 'dtstart', ev.startDate),
			end: when(vevent, 'dtend', ev.endDate),
		};
	});
	const out = {
		calendar: {
			version: cal.getFirstPropertyValue('version'),
			prodid: cal.getFirstPropertyValue('prodid'),
			calscale: cal.getFirstPropertyValue('calscale'),
			name: cal.getFirstPropertyValue('x-wr-calname'),
			timezones,
		},
		events,
	};
	process.stdout.write(JSON.stringify(out) + '\n');
} catch (e) {
	console.error('ics_events: ' + (e && e.stack ? e.stack : String(e)));
	process.exit(1);
}
