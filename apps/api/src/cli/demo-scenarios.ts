/**
 * What the simulated users ask and which tools the assistant calls for it. Every scenario
 * first picks its subject (a city, a topic, a person, a phrase…), then writes the question
 * from it and passes the same subject to the tools, so a "weather in Beijing" question calls
 * weather_api with {city: "Beijing"}. Questions come in English or Chinese (the seed's users
 * are in China); a Chinese question passes the Chinese words to its tools.
 */
import type { ToolUseWire } from '@ai-monitor/schema';
import type { Random } from './demo-random.js';

export type Lang = 'en' | 'zh';

export interface TurnContext {
  r: Random;
  lang: Lang;
  /** When the turn starts: dates in tool params ("tomorrow") are computed from it. */
  now: Date;
}

export interface Turn {
  userInput: string;
  tools: ToolUseWire[];
}

export type Scenario = (c: TurnContext) => Turn;

export interface IntentProfile {
  /** Median model time in ms, before tool calls. */
  medianMs: number;
  /** Baseline chance of failing. */
  errorRate: number;
  scenarios: readonly Scenario[];
}

/** A word in both languages of the simulated users. */
interface Word {
  en: string;
  zh: string;
}

const CITIES: readonly Word[] = [
  { en: 'Beijing', zh: '北京' },
  { en: 'Shanghai', zh: '上海' },
  { en: 'Shenzhen', zh: '深圳' },
  { en: 'Hangzhou', zh: '杭州' },
  { en: 'Chengdu', zh: '成都' },
  { en: 'Guangzhou', zh: '广州' },
  { en: 'Osaka', zh: '大阪' },
  { en: 'Berlin', zh: '柏林' },
];
const TOPICS: readonly Word[] = [
  { en: 'solar panels', zh: '太阳能电池板' },
  { en: 'electric vehicles', zh: '电动汽车' },
  { en: 'vector databases', zh: '向量数据库' },
  { en: 'sleep research', zh: '睡眠研究' },
  { en: 'large language models', zh: '大语言模型' },
  { en: 'data privacy law', zh: '数据隐私法' },
];
/** Days relative to the turn, with their offset in days. */
const DAYS: readonly (Word & { offset: number })[] = [
  { en: 'today', zh: '今天', offset: 0 },
  { en: 'tomorrow', zh: '明天', offset: 1 },
  { en: 'the day after tomorrow', zh: '后天', offset: 2 },
];
const LANGUAGES: readonly (Word & { code: string })[] = [
  { en: 'Japanese', zh: '日语', code: 'ja' },
  { en: 'French', zh: '法语', code: 'fr' },
  { en: 'German', zh: '德语', code: 'de' },
  { en: 'Korean', zh: '韩语', code: 'ko' },
];
const PHRASES: readonly Word[] = [
  { en: 'see you next week', zh: '下周见' },
  { en: 'thank you for your patience', zh: '感谢您的耐心' },
  { en: 'the meeting is postponed', zh: '会议推迟了' },
];
const PEOPLE: Record<Lang, readonly string[]> = {
  en: ['Amira', 'Jonas', 'Priya', 'Li Wei', 'Carlos'],
  zh: ['李伟', '张敏', '王芳', '陈晨', '刘洋'],
};
const PRODUCTS = ['VPN', 'Outlook', 'Wi-Fi', 'SSO'];
const CODE_LANGS = ['TypeScript', 'Python', 'Go', 'Rust', 'SQL'];
const FUNCTIONS = ['parseConfig', 'retryRequest', 'authMiddleware', 'loadUserProfile'];
const PAGES = ['news/ev-sales-2026', 'wiki/Vector_database', 'docs/privacy-policy', 'blog/solar-costs'];

/** One tool call: the given params, a log-normal duration around `medianMs`. */
function call(r: Random, tool: string, medianMs: number, params: Record<string, unknown>): ToolUseWire {
  return { tool, params, duration_ms: Math.round(r.logNormal(medianMs, 0.6)), success: true };
}

/** ISO date (YYYY-MM-DD) `offset` days after `now`. */
function dateAfter(now: Date, offset: number): string {
  return new Date(now.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
}

const say = (c: TurnContext, en: string, zh: string): string => (c.lang === 'zh' ? zh : en);

// ---- scenarios, by intent ---------------------------------------------------------------------

const searchArticles: Scenario = (c) => {
  const subject = c.r.pick(TOPICS);
  const topic = subject[c.lang];
  const tools = [call(c.r, 'web_search', 450, { query: topic, top_k: c.r.pick([3, 5, 10]), recency_days: 30 })];
  // Then it reads the top result, an article on the same topic.
  if (c.r.chance(0.5)) tools.push(call(c.r, 'fetch_page', 700, { url: `https://example.org/articles/${subject.en.replaceAll(' ', '-')}` }));
  return { userInput: say(c, `find recent articles about ${topic}`, `帮我找一下关于${topic}的最新文章`), tools };
};

const searchPopulation: Scenario = (c) => {
  const city = c.r.pick(CITIES)[c.lang];
  const query = say(c, `population of ${city}`, `${city} 人口`);
  return { userInput: say(c, `what is the population of ${city}?`, `${city}有多少人口？`), tools: [call(c.r, 'web_search', 450, { query, top_k: 3 })] };
};

const helpdeskHowTo: Scenario = (c) => {
  const product = c.r.pick(PRODUCTS);
  const query = say(c, `reset ${product} password`, `${product} 密码 重置`);
  return {
    userInput: say(c, `how do I reset my ${product} password?`, `${product}密码怎么重置？`),
    tools: [call(c.r, 'kb_lookup', 120, { query, index: 'support-articles' })],
  };
};

const summarizeReport: Scenario = (c) => {
  const topic = c.r.pick(TOPICS)[c.lang];
  return {
    userInput: say(c, `summarize this report on ${topic}`, `总结一下这份关于${topic}的报告`),
    tools: [call(c.r, 'read_document', 300, { doc_id: `doc-${c.r.hex(8)}`, topic, pages: c.r.int(2, 40) })],
  };
};

const summarizePage: Scenario = (c) => {
  const url = `https://example.org/${c.r.pick(PAGES)}`;
  return { userInput: say(c, `tl;dr of ${url}`, `帮我概括这个网页：${url}`), tools: [call(c.r, 'fetch_page', 700, { url })] };
};

const writeCode: Scenario = (c) => {
  const language = c.r.pick(CODE_LANGS);
  const tools = [call(c.r, 'code_interpreter', 1800, { language, task: say(c, 'deduplicate a list', '列表去重') })];
  if (c.r.chance(0.3)) tools.push(call(c.r, 'run_tests', 6000, { language, suite: 'unit' }));
  return { userInput: say(c, `write a ${language} function that deduplicates a list`, `用${language}写一个列表去重的函数`), tools };
};

const debugCode: Scenario = (c) => {
  const fn = c.r.pick(FUNCTIONS);
  const tools = [call(c.r, 'repo_search', 350, { query: fn, repo: 'acme/platform' })];
  if (c.r.chance(0.4)) tools.push(call(c.r, 'run_tests', 6000, { pattern: fn, suite: 'unit' }));
  return { userInput: say(c, `why does ${fn}() throw a null reference?`, `为什么${fn}()会报空指针异常？`), tools };
};

const translatePhrase: Scenario = (c) => {
  const phrase = c.r.pick(PHRASES)[c.lang];
  const target = c.r.pick(LANGUAGES);
  // Short phrases are often translated by the model itself, without a tool.
  const tools = c.r.chance(0.7) ? [call(c.r, 'translate_api', 250, { text: phrase, source: c.lang, target: target.code })] : [];
  return { userInput: say(c, `translate "${phrase}" into ${target.en}`, `把“${phrase}”翻译成${target.zh}`), tools };
};

const bookMeeting: Scenario = (c) => {
  const person = c.r.pick(PEOPLE[c.lang]);
  const day = c.r.pick(DAYS.slice(1));
  const hour = c.r.int(9, 17);
  const date = dateAfter(c.now, day.offset);
  const tools = [call(c.r, 'calendar_lookup', 200, { date, attendee: person })];
  if (c.r.chance(0.8)) tools.push(call(c.r, 'calendar_create', 350, { attendee: person, date, start: `${hour}:00`, duration_min: c.r.pick([30, 60]) }));
  return { userInput: say(c, `book a meeting with ${person} ${day.en} at ${hour}:00`, `帮我约${person}${day.zh}${hour}点开会`), tools };
};

const freeTime: Scenario = (c) => {
  const day = c.r.pick(DAYS);
  return {
    userInput: say(c, `am I free ${day.offset === 0 ? 'this' : day.en} afternoon?`, `我${day.zh}下午有空吗？`),
    tools: [call(c.r, 'calendar_lookup', 200, { date: dateAfter(c.now, day.offset), from: '12:00', to: '18:00' })],
  };
};

const weather: Scenario = (c) => {
  const city = c.r.pick(CITIES)[c.lang];
  const day = c.r.pick(DAYS);
  const userInput = c.r.chance(0.5)
    ? say(c, `what's the weather in ${city} ${day.en}?`, `${city}${day.zh}天气怎么样？`)
    : say(c, `do I need an umbrella in ${city} ${day.en}?`, `${day.zh}${city}会下雨吗？`);
  return { userInput, tools: [call(c.r, 'weather_api', 180, { city, date: dateAfter(c.now, day.offset), units: 'metric' })] };
};

const emailDecline: Scenario = (c) => {
  const person = c.r.pick(PEOPLE[c.lang]);
  return {
    userInput: say(c, `draft a reply to ${person} declining politely`, `给${person}写一封邮件，礼貌地拒绝邀请`),
    tools: [call(c.r, 'email_draft', 400, { recipient: person, tone: 'polite', purpose: 'decline' })],
  };
};

const emailNotes: Scenario = (c) => {
  const person = c.r.pick(PEOPLE[c.lang]);
  return {
    userInput: say(c, `send the meeting notes to ${person}`, `把会议纪要发给${person}`),
    tools: [call(c.r, 'email_draft', 400, { recipient: person, attachment: 'meeting-notes.md' }), call(c.r, 'email_send', 500, { recipient: person })],
  };
};

const chitchat: Scenario = (c) => ({
  userInput: c.r.pick(c.lang === 'zh' ? ['你好！', '讲个笑话吧', '谢谢，很有帮助', '你能做什么？'] : ['hi there!', 'tell me a joke', 'thanks, that helped', 'what can you do?']),
  tools: [],
});

export const INTENTS: Record<string, IntentProfile> = {
  search: { medianMs: 900, errorRate: 0.02, scenarios: [searchArticles, searchPopulation, helpdeskHowTo] },
  summarize: { medianMs: 2200, errorRate: 0.02, scenarios: [summarizeReport, summarizePage] },
  code: { medianMs: 3200, errorRate: 0.04, scenarios: [writeCode, debugCode] },
  translate: { medianMs: 700, errorRate: 0.015, scenarios: [translatePhrase] },
  schedule: { medianMs: 800, errorRate: 0.03, scenarios: [bookMeeting, freeTime] },
  weather: { medianMs: 500, errorRate: 0.01, scenarios: [weather] },
  email: { medianMs: 1400, errorRate: 0.025, scenarios: [emailDecline, emailNotes] },
  chitchat: { medianMs: 450, errorRate: 0.005, scenarios: [chitchat] },
};

/**
 * The param of each tool that carries the subject of the question, for tests: its value (each
 * word of it) appears in the user input.
 */
export const SUBJECT_PARAM: Record<string, string> = {
  web_search: 'query',
  kb_lookup: 'query',
  read_document: 'topic',
  code_interpreter: 'language',
  repo_search: 'query',
  translate_api: 'text',
  calendar_create: 'attendee',
  weather_api: 'city',
  email_draft: 'recipient',
  email_send: 'recipient',
};
