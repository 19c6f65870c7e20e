"""A synthetic archive for the benchmarks: mixed Chinese and English articles, written
through the storage layer (``archive.bulk.store``), deterministic for a given seed."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

from archiver.items import ArticleItem

# Common two-character Chinese words; texts are made of them, so three-character queries
# such as 区块链 or 人工智 hit a realistic share of articles.
ZH_WORDS = [
    "公司",
    "市场",
    "发展",
    "技术",
    "数据",
    "平台",
    "用户",
    "产品",
    "服务",
    "行业",
    "企业",
    "投资",
    "融资",
    "中国",
    "全球",
    "经济",
    "科技",
    "创新",
    "智能",
    "人工",
    "网络",
    "互联",
    "金融",
    "银行",
    "资本",
    "政策",
    "管理",
    "研究",
    "模型",
    "算法",
    "学习",
    "训练",
    "芯片",
    "手机",
    "汽车",
    "能源",
    "电池",
    "医疗",
    "健康",
    "教育",
    "文化",
    "娱乐",
    "游戏",
    "视频",
    "直播",
    "社交",
    "电商",
    "零售",
    "消费",
    "物流",
    "制造",
    "工业",
    "农业",
    "城市",
    "国际",
    "美国",
    "欧洲",
    "日本",
    "政府",
    "监管",
    "安全",
    "隐私",
    "开源",
    "代码",
    "软件",
    "硬件",
    "系统",
    "云端",
    "计算",
    "存储",
    "区块",
    "链上",
    "交易",
    "货币",
    "比特",
    "以太",
    "合约",
    "攻击",
    "漏洞",
    "团队",
    "项目",
    "报告",
    "分析",
    "增长",
    "下降",
    "收入",
    "利润",
    "亏损",
    "估值",
    "上市",
    "股价",
    "季度",
    "年度",
    "今天",
    "昨天",
    "宣布",
    "完成",
    "发布",
    "推出",
    "合作",
    "收购",
    "竞争",
    "谷歌",
    "苹果",
    "微软",
    "腾讯",
    "阿里",
    "百度",
    "字节",
    "华为",
    "小米",
    "京东",
    "特斯拉",
    "英伟达",
    "亚马逊",
]
EN_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "this",
    "are",
    "or",
    "his",
    "from",
    "at",
    "which",
    "but",
    "have",
    "an",
    "they",
    "you",
    "were",
    "her",
    "she",
    "there",
    "been",
    "one",
    "all",
    "we",
    "their",
    "has",
    "would",
    "when",
    "if",
    "market",
    "company",
    "data",
    "platform",
    "users",
    "product",
    "service",
    "industry",
    "investment",
    "funding",
    "china",
    "global",
    "economy",
    "technology",
    "innovation",
    "intelligence",
    "network",
    "finance",
    "bank",
    "capital",
    "policy",
    "management",
    "research",
    "model",
    "algorithm",
    "learning",
    "training",
    "chip",
    "phone",
    "car",
    "energy",
    "battery",
    "health",
    "education",
    "culture",
    "game",
    "video",
    "social",
    "retail",
    "logistics",
    "manufacturing",
    "city",
    "government",
    "regulation",
    "security",
    "privacy",
    "open",
    "source",
    "code",
    "software",
    "hardware",
    "system",
    "cloud",
    "computing",
    "storage",
    "blockchain",
    "trading",
    "currency",
    "bitcoin",
    "ethereum",
    "contract",
    "attack",
    "team",
    "project",
    "report",
    "analysis",
    "growth",
    "revenue",
    "profit",
    "valuation",
    "shares",
    "quarter",
    "announced",
    "released",
    "launched",
    "partnership",
    "acquisition",
    "competition",
    "google",
    "apple",
    "microsoft",
    "tencent",
    "alibaba",
    "baidu",
    "huawei",
    "xiaomi",
    "tesla",
    "nvidia",
    "amazon",
    "keras",
    "tensorflow",
    "pytorch",
    "python",
]
SOURCES = [("36kr", ["新媒体", "36kr", "资讯"]), ("36kr-flash", ["新媒体", "36kr", "快讯"]),
           ("jinse", ["新媒体", "金色财经", "快讯"]), ("verge", ["tech", "verge"]),
           ("hn", ["tech", "hn"])]  # fmt: skip


_COMMON_HAN = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能"
    "下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量"
    "都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各"
    "重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代"
)


def vocabulary(
    named: Sequence[str], generate: Callable[[random.Random], str], size: int
) -> list[str]:
    """*size* words by rank: generated words, with the named ones spread over the ranks
    (every 25th), so query words range from common to rare as in real text."""
    rng = random.Random(size)
    words: list[str] = []
    seen = set(named)
    while len(words) < size - len(named):
        word = generate(rng)
        if word not in seen:
            seen.add(word)
            words.append(word)
    for index, word in enumerate(named):
        words.insert(min(index * 25, len(words)), word)
    return words


ZH_VOCABULARY = vocabulary(
    ZH_WORDS, lambda rng: "".join(rng.choices(_COMMON_HAN, k=rng.choice((2, 2, 3)))), 4000
)
EN_VOCABULARY = vocabulary(
    EN_WORDS,
    lambda rng: "".join(rng.choices("etaoinshrdlucmfwypvbgk", k=rng.randint(4, 9))),
    4000,
)
_WEIGHTS = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(4000)))


def _zipf_words(rng: random.Random, words: list[str], count: int) -> list[str]:
    # Zipf's law: the word of rank r is used in proportion to 1/r, as in real text.
    return rng.choices(words, cum_weights=_WEIGHTS[: len(words)], k=count)


def article_items(
    count: int, *, seed: int = 7, start: int = 0
) -> Iterator[tuple[str, ArticleItem]]:
    """``count`` articles (source key, item), half Chinese and half English."""
    rng = random.Random(seed + start)
    base = datetime(2020, 1, 1, tzinfo=UTC)
    zh = ZH_VOCABULARY
    en = EN_VOCABULARY
    for n in range(start, start + count):
        source, categories = SOURCES[n % len(SOURCES)]
        if n % 2 == 0:
            title = "".join(_zipf_words(rng, zh, rng.randint(5, 12)))
            text = "。".join(
                "".join(_zipf_words(rng, zh, rng.randint(8, 20))) for _ in range(rng.randint(4, 10))
            )
            language = "zh"
        else:
            title = " ".join(_zipf_words(rng, en, rng.randint(5, 12))).capitalize()
            text = ". ".join(
                " ".join(_zipf_words(rng, en, rng.randint(8, 20)))
                for _ in range(rng.randint(4, 10))
            )
            language = "en"
        published = base + timedelta(minutes=n * 3 + rng.randint(0, 2))
        html = "".join(f"<p>{p}</p>" for p in text.split("。" if language == "zh" else ". "))
        yield (
            source,
            ArticleItem(
                url=f"https://{source}.example.com/p/{n}",
                source_url=f"https://{source}.example.com/feed",
                guid=f"{source}-{n}",
                key=f"{source}-{n}",
                title_raw=title,
                title=title,
                content_html=html,
                content_text=text,
                published=published,
                published_raw=published.strftime("%a, %d %b %Y %H:%M:%S GMT"),
                authors=[rng.choice(["张三", "李四", "Alice", "Bob", "王五"])],
                categories=list(categories),
                source_categories=list(categories),
                canonical_url=f"https://{source}.example.com/p/{n}",
                language=language,
            ),
        )
