// Dates and clock times as the contract has them: local to Asia/Shanghai.
const dateFmt = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });
const timeFmt = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hour12: false });

// "2026-12-02" for an instant (ms since the epoch).
export const shanghaiDate = (ms = Date.now()) => dateFmt.format(new Date(ms));
// "09:12" for an instant.
export const clockTime = (ms = Date.now()) => timeFmt.format(new Date(ms));
