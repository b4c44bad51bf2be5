// Every string the page shows, in Russian, and the human sentence for each
// error code the server may refuse with. A code missing here is shown as the
// generic sentence, never as itself.

export const T = {
  appName: "Звонок",
  chats: "Чаты",
  noChats: "Чатов пока нет",
  noMessages: "Сообщений пока нет. Напишите первым!",
  noMessagesYet: "Сообщений пока нет",
  chooseChat: "Выберите чат слева",
  back: "Назад к чатам",
  write: "Написать",
  messagePlaceholder: "Сообщение",
  messageLabel: "Текст сообщения",
  send: "Отправить",
  sending: "отправляется",
  notSent: "не отправлено",
  retry: "Повторить",
  dismiss: "Убрать",
  edited: "изменено",
  deleted: "Сообщение удалено",
  you: "Вы",
  unread: (n: number) => `${n} непрочитанных`,
  loadingOlder: "Загружаем более ранние сообщения…",
  signOut: "Выйти",
  signedInAs: "Вы вошли как",
  connecting: "Подключаемся…",
  reconnecting: "Нет соединения, переподключаемся…",
  signedOut: "Сессия истекла — войдите снова",
  signIn: "Войти через Госуслуги",
  replaced: "Звонок открыт на другом устройстве или в другой вкладке. Эта вкладка отключена.",
  reconnectHere: "Подключиться здесь",
  today: "сегодня",
  members: (n: number) => `участников: ${n}`,

  // -- inside the open chat (the chat pane) --
  reply: "Ответить",
  edit: "Изменить",
  delete: "Удалить",
  report: "Пожаловаться",
  pin: "Закрепить",
  unpin: "Открепить",
  muteAuthor: "Заглушить автора",
  mute15m: "15 минут",
  mute1h: "1 час",
  mute1d: "1 день",
  addReaction: "Поставить реакцию",
  chooseReaction: "Выберите реакцию",
  messageActions: "Действия с сообщением",
  close: "Закрыть",
  cancel: "Отмена",
  save: "Сохранить",
  editLabel: "Новый текст сообщения",
  replyingTo: (name: string) => `Ответ: ${name}`,
  reactions: "Реакции",
  earlierMessage: "Сообщение выше в истории",
  cancelReply: "Не отвечать",
  reportTitle: "Жалоба на сообщение",
  reportReason: "Что не так с этим сообщением?",
  reportSend: "Отправить жалобу",
  reportSent: "Жалоба отправлена",
  pinned: "Закреплённое сообщение",
  pinnedNotLoaded: "Закреплённое сообщение (выше в истории)",
  newMessages: "Новые сообщения",
  readMark: "прочитано",
  mine: "Вы",
  someone: "Участник",
  online: "в сети",
  lastSeen: (when: string) => `был(а) в сети ${when}`,
  typingOne: (a: string) => `${a} печатает…`,
  typingTwo: (a: string, b: string) => `${a} и ${b} печатают…`,
  typingMany: "несколько человек печатают…",
  mutedUntil: (hhmm: string) => `Вы не можете писать до ${hhmm}`,
  announcementsOnly: "Писать могут только учителя",
  reactionLabel: (emoji: string, n: number) => `${emoji}: ${n}`,
  actionLost: "Нет соединения. Попробуйте ещё раз, когда оно вернётся.",

  // -- the list pane's panels (views/people, groups, members, reports, oversight) --
  kindClass: "Класс",
  kindParents: "Родители",
  kindStaff: "Учителя",
  kindDirect: "Личный",
  kindGroup: "Группа",
  navigation: "Разделы",
  writeTitle: "Написать",
  searchLabel: "Кого найти: фамилия или имя",
  searchPlaceholder: "Например, Морозова",
  searching: "Ищем…",
  nobodyFound: "Никого не нашли. Искать можно тех, кому правила школы разрешают вам писать.",
  roleStudent: "ученик",
  roleParent: "родитель",
  roleTeacher: "учитель",
  roleAdmin: "администрация",
  moderator: "модератор",
  owner: "создатель группы",
  createGroup: "Создать группу",
  groupTitle: "Название группы",
  groupSchool: "Школа",
  groupMembers: "Участники группы",
  addMember: (name: string) => `Добавить: ${name}`,
  removeChosen: (name: string) => `Убрать из списка: ${name}`,
  create: "Создать",
  membersButton: "Участники",
  chatInfo: "Участники чата",
  loading: "Загружаем…",
  memberMutedUntil: (until: string) => `заглушён до ${until}`,
  mute: "Заглушить",
  muteFor: (name: string) => `Заглушить: ${name}`,
  unmute: "Снять заглушение",
  removeFromGroup: "Удалить из группы",
  announcementsToggle: "Только объявления",
  addToGroup: "Добавить участников",
  reports: "Жалобы",
  myReports: "Мои жалобы",
  noReports: "Жалоб нет",
  noMyReports: "Вы ещё не отправляли жалоб",
  reportOpen: "Открытые",
  reportResolved: "Рассмотренные",
  reportedBy: (name: string) => `Пожаловался: ${name}`,
  reason: "Причина",
  reportText: "Сообщение",
  noteLabel: "Комментарий (необязательно)",
  outcomeDismissed: "Отклонить",
  outcomeWarned: "Предупредить",
  outcomeRemoved: "Удалить сообщение",
  resultDismissed: "Жалоба отклонена",
  resultWarned: "Автор получил предупреждение",
  resultRemoved: "Сообщение удалено",
  awaiting: "На рассмотрении",
  children: "Дети",
  childChats: (name: string) => `Чаты: ${name}`,
  childChatsNote: "Видно, в каких чатах ребёнок и с кем. Сообщения родителям не показываются.",
  childNoChats: "У ребёнка пока нет чатов",
  oversightOff:
    "Школа не показывает родителям чаты детей этого возраста (настройка школы «возраст родительского контроля»).",
  chatNotFoundHere: "Чат не найден",
} as const;

/** Refusals of the panels' requests that the common table does not name. */
export const PANEL_REFUSALS: Record<string, string> = {
  "chat.not_owner": "Менять участников может только создатель группы.",
  "chat.members_fixed": "Участники этого чата берутся из списков школы, их нельзя менять вручную.",
  "chat.invalid": "Так нельзя: проверьте название и участников.",
  "person.not_found": "Такого человека нет в списках школы.",
  "report.not_found": "Эта жалоба уже недоступна.",
  "report.resolved": "Эту жалобу уже рассмотрели.",
};

/** The refusal's sentence; `wait` is the server's retry_after in seconds. */
export function refusalText(code: string, wait?: number): string {
  const make = REFUSALS[code] ?? REFUSALS["server.internal"]!;
  return make(wait);
}

function seconds(wait: number | undefined): string {
  const s = Math.max(1, Math.ceil(wait ?? 1));
  if (s >= 90) {
    const m = Math.ceil(s / 60);
    return `${m} ${plural(m, "минуту", "минуты", "минут")}`;
  }
  return `${s} ${plural(s, "секунду", "секунды", "секунд")}`;
}

export function plural(n: number, one: string, few: string, many: string): string {
  const ten = n % 10;
  const hundred = n % 100;
  if (ten === 1 && hundred !== 11) return one;
  if (ten >= 2 && ten <= 4 && (hundred < 12 || hundred > 14)) return few;
  return many;
}

const REFUSALS: Record<string, (wait?: number) => string> = {
  "policy.forbidden": () => "Правила школы не разрешают это действие.",
  "moderation.muted": (w) =>
    `Модератор временно запретил вам писать в этот чат. Писать снова можно будет через ${seconds(w)}.`,
  "moderation.announcements_only": () =>
    "Сейчас в этом чате пишут только учителя: он в режиме объявлений.",
  "moderation.not_moderator": () => "Это может сделать только модератор чата.",
  "rate.limited": (w) => `Слишком много сообщений подряд. Подождите ${seconds(w)} и попробуйте снова.`,
  "content.blocked": () =>
    "Сообщение не отправлено: в нём есть слова, которые в этом чате запрещены. Перефразируйте, пожалуйста.",
  "content.link_forbidden": () =>
    "Ссылки в этом чате могут отправлять только учителя. Уберите ссылку из сообщения.",
  "message.too_long": () => "Сообщение слишком длинное. Разделите его на несколько.",
  "message.empty": () => "Нельзя отправить пустое сообщение.",
  "message.not_found": () => "Это сообщение уже не найти.",
  "message.deleted": () => "Сообщение уже удалено.",
  "message.not_author": () => "Изменять и удалять можно только свои сообщения.",
  "chat.not_found": () => "Этот чат недоступен: вы в нём больше не состоите.",
  "idempotency.conflict": () => "Это сообщение уже было отправлено с другим текстом.",
  "store.unavailable": () => "Сервер временно не может сохранить сообщение. Попробуйте чуть позже.",
  "server.internal": () => "Что-то пошло не так. Попробуйте ещё раз.",
  "session.expired": () => "Сессия истекла — войдите снова.",
  "message.invalid": () => "Сервер не принял это сообщение.",
  "chat.invalid": () => "Это действие в этом чате невозможно.",
  "moderation.invalid": () => "Этого участника нельзя заглушить или удалить.",
};

type MediaSource = "camera" | "microphone" | "screen";
const SOURCE_ACC: Record<MediaSource, string> = { camera: "камеру", microphone: "микрофон", screen: "показ экрана" };

/** Lessons and parent meetings: the room's screens, states and controls. */
export const RT = {
  rooms: "Уроки и собрания",
  roomsToday: "Сегодня и впереди",
  noRooms: "Уроков и собраний пока нет",
  lesson: "Урок",
  meeting: "Родительское собрание",
  startLesson: "Начать урок",
  startMeeting: "Начать собрание",
  startTitle: "Начать урок или собрание",
  className: "Класс",
  kindLabel: "Что",
  titleLabel: "Тема",
  whenLabel: "Когда (пусто — сейчас)",
  start: "Начать",
  schedule: "Запланировать",
  join: "Войти",
  joinLesson: "Войти в урок",
  joinMeeting: "Войти в собрание",
  open: "идёт",
  scheduled: (at: string) => `запланировано на ${at}`,
  ended: "завершено",
  inRoom: (n: number) => `в комнате: ${n}`,
  preview: "Проверьте камеру и микрофон",
  camera: "Камера",
  microphone: "Микрофон",
  cameraOn: "Камера включена",
  microphoneOn: "Микрофон включён",
  noCamera: "Без камеры",
  joining: "Подключаемся…",
  waiting: "Ожидайте: учитель скоро впустит вас",
  waitingNote: "Учитель видит, что вы ждёте. Не закрывайте страницу.",
  connectingMedia: "Подключаем видео и звук…",
  mediaRecovering: "Связь прервалась, восстанавливаем…",
  lessonEnded: "Урок окончен",
  meetingEnded: "Собрание окончено",
  left: "Вы вышли",
  backToChats: "К чатам",
  joinAgain: "Войти снова",
  leave: "Выйти",
  mute: (s: MediaSource) => `Выключить ${SOURCE_ACC[s]}`,
  unmute: (s: MediaSource) => `Включить ${SOURCE_ACC[s]}`,
  shareScreen: "Показать экран",
  stopShare: "Остановить показ",
  raiseHand: "Поднять руку",
  lowerHand: "Опустить руку",
  audioOnly: "Только звук",
  audioOnlyOn: "Только звук: видео не передаётся и не принимается",
  chat: "Чат",
  people: "Участники",
  waitingRoom: (n: number) => `Ждут входа: ${n}`,
  admit: "Впустить",
  admitAll: "Впустить всех",
  hostTools: "Управление",
  muteAll: "Выключить все микрофоны",
  forbidAll: "Выключить и запретить микрофоны",
  lowerAll: "Опустить все руки",
  attendance: "Посещаемость (CSV)",
  endForAll: "Завершить для всех",
  endConfirm: "Завершить для всех? Войти снова будет нельзя.",
  endYes: "Да, завершить",
  cancel: "Отмена",
  hideNotice: "Скрыть",
  roomsButton: "Уроки",
  muteHer: (s: MediaSource) => `Выключить ${SOURCE_ACC[s]}`,
  forbid: (s: MediaSource) => `Запретить ${SOURCE_ACC[s]}`,
  allow: (s: MediaSource) => `Разрешить ${SOURCE_ACC[s]}`,
  stopTheirScreen: "Остановить показ экрана",
  lowerTheirHand: "Опустить руку",
  makeCohost: "Сделать соведущим",
  dropCohost: "Снять соведущего",
  remove: "Удалить из комнаты",
  actionsFor: (name: string) => `Действия: ${name}`,
  role: { host: "ведущий", cohost: "соведущий", student: "ученик", parent: "родитель", staff: "учитель" } as Record<string, string>,
  away: "нет связи",
  hand: "поднял(а) руку",
  speaking: "говорит",
  micOff: "микрофон выключен",
  camOff: "камера выключена",
  screenOf: (name: string) => `Экран: ${name}`,
  you: "Вы",
  mutedByHost: (s: MediaSource) => (s === "microphone" ? "Учитель выключил вам микрофон" : `Учитель выключил вам ${SOURCE_ACC[s]}`),
  forbidden: (s: MediaSource) => `Учитель выключил вам ${SOURCE_ACC[s]} и пока не разрешает включать`,
  stillForbidden: (s: MediaSource) => `Учитель не разрешает включать ${SOURCE_ACC[s]}. Поднимите руку, если хотите сказать.`,
  allowed: (s: MediaSource) => `Учитель разрешил включить ${SOURCE_ACC[s]}`,
  screenStopped: "Учитель остановил показ вашего экрана",
  handLowered: "Учитель опустил вашу руку",
  nowCohost: "Вы теперь соведущий: вам доступно управление",
  roomMoving: "Сервер урока не отвечает, подключаемся снова…",
  removed: (reason: string, lesson: boolean) =>
    reason === "host"
      ? lesson
        ? "Учитель удалил вас из урока"
        : "Ведущий удалил вас из собрания"
      : reason === "elsewhere"
        ? "Вы вошли в эту комнату в другой вкладке или на другом устройстве"
        : "Вас больше нет в списке этого класса, поэтому вы вышли из комнаты",
  noMediaHere: "Этот браузер не даёт доступа к камере и микрофону. Вы будете видеть и слышать остальных.",
  mediaDenied: "Браузер не разрешил доступ к камере или микрофону. Разрешите его в настройках сайта и обновите страницу.",
  noDevice: (s: "camera" | "microphone") => (s === "camera" ? "Камера не найдена" : "Микрофон не найден"),
  deviceBusy: (s: "camera" | "microphone") =>
    s === "camera" ? "Камера занята другой программой" : "Микрофон занят другой программой",
  link: "Связь",
  linkGood: "хорошая",
  linkWeak: "слабая — попробуйте «Только звук»",
} as const;

const ROOM_REFUSALS: Record<string, string> = {
  "room.forbidden": "Этот урок или собрание — для другого класса. Войти нельзя.",
  "room.not_found": "Такого урока или собрания нет.",
  "room.not_started": "Ещё не началось: учитель пока не открыл комнату.",
  "room.ended": "Уже закончилось.",
  "room.removed": "Ведущий удалил вас из этой комнаты, войти снова нельзя.",
  "room.full": "В комнате нет свободных мест.",
  "room.not_host": "Это может сделать только ведущий.",
  "room.not_in_room": "Вы сейчас не в комнате.",
  "room.unmute_forbidden": "Ведущий не разрешает это включать.",
  "room.invalid": "Так нельзя: проверьте класс, тему и время.",
  "room.unavailable": "Сервер урока не отвечает. Подождите минуту и войдите снова.",
};

/** The Russian sentence for a room or media refusal; other codes as the chats say them. */
export function roomRefusal(code: string): string {
  if (code.startsWith("media.")) return "Не удалось подключить видео и звук. Попробуйте выйти и войти снова.";
  return ROOM_REFUSALS[code] ?? refusalText(code);
}
