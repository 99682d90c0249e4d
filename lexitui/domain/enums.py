"""The roadmap's enumerations, in Python form.

Values are lowercase snake_case strings so they serialise stably into JSON output and SQLite rows;
the member names follow the roadmap so code reads like the contract.
"""

from __future__ import annotations

from enum import StrEnum


class GpuVendor(StrEnum):
    UNKNOWN = "unknown"
    NVIDIA = "nvidia"
    AMD = "amd"
    INTEL = "intel"
    APPLE = "apple"


class GpuBackend(StrEnum):
    NONE = "none"
    CUDA = "cuda"
    METAL = "metal"
    ROCM = "rocm"
    VULKAN = "vulkan"
    DIRECT_ML = "direct_ml"
    SYCL = "sycl"


class ModelSizeCategory(StrEnum):
    """Parameter-count classes; the comments give the range each stands for."""

    TINY = "tiny"  # 1-3B
    SMALL = "small"  # 7-8B
    MEDIUM = "medium"  # 13-14B
    LARGE = "large"  # 30-34B
    XLARGE = "xlarge"  # 65-70B
    XXLARGE = "xxlarge"  # 100B+


class CompatibilityLevel(StrEnum):
    OPTIMAL = "optimal"
    COMFORTABLE = "comfortable"
    CONSTRAINED = "constrained"
    MARGINAL = "marginal"
    INCOMPATIBLE = "incompatible"


class InferenceMode(StrEnum):
    FULL_GPU = "full_gpu"
    HYBRID_GPU_CPU = "hybrid_gpu_cpu"
    CPU_ONLY = "cpu_only"


class QuantizationType(StrEnum):
    """llama.cpp's GGUF file types as users meet them in file names; values keep llama.cpp's
    upper-case spelling. Publisher recipe names (bartowski's ``Q6_K_L``, unsloth's
    ``UD-Q4_K_XL``, ARM repacks ``Q4_0_4_4``) are not members: discovery keeps them as a variant's
    ``quantization_label`` with the base type here (see ``lexitui.discovery.quant_names``)."""

    F32 = "F32"
    F16 = "F16"
    BF16 = "BF16"
    Q8_0 = "Q8_0"
    Q6_K = "Q6_K"
    Q5_K_M = "Q5_K_M"
    Q5_K_S = "Q5_K_S"
    Q5_0 = "Q5_0"
    Q5_1 = "Q5_1"
    Q4_K_M = "Q4_K_M"
    Q4_K_S = "Q4_K_S"
    Q4_0 = "Q4_0"
    Q4_1 = "Q4_1"
    Q3_K_L = "Q3_K_L"
    Q3_K_M = "Q3_K_M"
    Q3_K_S = "Q3_K_S"
    Q2_K = "Q2_K"
    Q2_K_S = "Q2_K_S"
    IQ4_XS = "IQ4_XS"
    IQ4_NL = "IQ4_NL"
    IQ3_M = "IQ3_M"
    IQ3_S = "IQ3_S"
    IQ3_XS = "IQ3_XS"
    IQ3_XXS = "IQ3_XXS"
    IQ2_M = "IQ2_M"
    IQ2_S = "IQ2_S"
    IQ2_XS = "IQ2_XS"
    IQ2_XXS = "IQ2_XXS"
    IQ1_M = "IQ1_M"
    IQ1_S = "IQ1_S"
    TQ1_0 = "TQ1_0"
    TQ2_0 = "TQ2_0"
    MXFP4 = "MXFP4"


class InferenceBackendType(StrEnum):
    OLLAMA = "ollama"
    LM_STUDIO = "lm_studio"
    LLAMA_CPP = "llama_cpp"
    VLLM = "vllm"
    TEXT_GEN_WEB_UI = "text_gen_web_ui"
    LOCAL_AI = "local_ai"
    CUSTOM = "custom"


class BackendStatus(StrEnum):
    UNKNOWN = "unknown"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    ERROR = "error"


class ModelInstanceStatus(StrEnum):
    LOADING = "loading"
    READY = "ready"
    GENERATING = "generating"
    EMBEDDING = "embedding"
    UNLOADING = "unloading"
    ERROR = "error"
    DISPOSED = "disposed"


class ChatRole(StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


class ModelRegistryType(StrEnum):
    HUGGING_FACE = "hugging_face"
    OLLAMA_LIBRARY = "ollama_library"
    CUSTOM = "custom"


class ModelCategory(StrEnum):
    TEXT_GENERATION = "text_generation"
    CHAT_COMPLETION = "chat_completion"
    CODE_GENERATION = "code_generation"
    EMBEDDING = "embedding"
    IMAGE_GENERATION = "image_generation"
    SPEECH_TO_TEXT = "speech_to_text"
    TEXT_TO_SPEECH = "text_to_speech"
    TRANSLATION = "translation"
    SUMMARIZATION = "summarization"
    QUESTION_ANSWERING = "question_answering"


class ModelTask(StrEnum):
    GENERAL_CHAT = "general_chat"
    CREATIVE_WRITING = "creative_writing"
    CODE_ASSISTANT = "code_assistant"
    DATA_ANALYSIS = "data_analysis"
    RESEARCH = "research"
    ROLEPLAY = "roleplay"
    INSTRUCTION = "instruction"
    UNCENSORED = "uncensored"


class ModelFormat(StrEnum):
    GGUF = "gguf"
    GPTQ = "gptq"
    AWQ = "awq"
    GGML = "ggml"
    SAFE_TENSORS = "safetensors"
    PY_TORCH = "pytorch"
    ONNX = "onnx"
    MLX = "mlx"


class ModelSortOrder(StrEnum):
    TRENDING = "trending"
    DOWNLOADS = "downloads"
    LIKES = "likes"
    RECENT = "recent"
    NAME = "name"
    SIZE = "size"


class CompatibilityWarningType(StrEnum):
    INSUFFICIENT_VRAM = "insufficient_vram"
    INSUFFICIENT_RAM = "insufficient_ram"
    SLOW_PERFORMANCE = "slow_performance"
    CONTEXT_LENGTH_LIMITED = "context_length_limited"
    NO_GPU_ACCELERATION = "no_gpu_acceleration"
    UNSUPPORTED_FORMAT = "unsupported_format"
    EXPERIMENTAL_QUANTIZATION = "experimental_quantization"
    LICENSE_RESTRICTION = "license_restriction"


class WarningSeverity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class DownloadPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class DownloadStatus(StrEnum):
    QUEUED = "queued"
    DOWNLOADING = "downloading"
    PAUSED = "paused"
    VERIFYING = "verifying"
    INSTALLING = "installing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class CleanupReason(StrEnum):
    NEVER_USED = "never_used"
    NOT_USED_RECENTLY = "not_used_recently"
    LARGE_SIZE = "large_size"
    BETTER_VERSION_AVAILABLE = "better_version_available"
    INCOMPATIBLE_WITH_HARDWARE = "incompatible_with_hardware"
    DUPLICATE_QUANTIZATION = "duplicate_quantization"


class LoadedModelStatus(StrEnum):
    LOADING = "loading"
    READY = "ready"
    BUSY = "busy"
    UNLOADING = "unloading"
    ERROR = "error"


class LocalFormatType(StrEnum):
    TEXT = "text"
    JSON = "json"
    JSON_SCHEMA = "json_schema"


class ResourceType(StrEnum):
    RAM = "ram"
    VRAM = "vram"
    DISK = "disk"
    CPU = "cpu"
    GPU_TEMPERATURE = "gpu_temperature"  # alerts only: a temperature, not a share of a capacity


class RoutingStrategy(StrEnum):
    PREFER_LOCAL = "prefer_local"
    PREFER_CLOUD = "prefer_cloud"
    LOCAL_ONLY = "local_only"
    CLOUD_ONLY = "cloud_only"
    COST_OPTIMIZED = "cost_optimized"
    PERFORMANCE_OPTIMIZED = "performance_optimized"
    QUALITY_OPTIMIZED = "quality_optimized"
    ROUND_ROBIN = "round_robin"
    LOAD_BALANCED = "load_balanced"


class TaskType(StrEnum):
    CHAT = "chat"
    COMPLETION = "completion"
    EMBEDDING = "embedding"
    CODE_GENERATION = "code_generation"
    SUMMARIZATION = "summarization"
    TRANSLATION = "translation"
    ANALYSIS = "analysis"
    CREATIVE_WRITING = "creative_writing"


class OptimizationGoal(StrEnum):
    MINIMIZE_COST = "minimize_cost"
    MINIMIZE_LATENCY = "minimize_latency"
    MAXIMIZE_QUALITY = "maximize_quality"
    BALANCE_COST_LATENCY = "balance_cost_latency"
    BALANCE_ALL = "balance_all"
